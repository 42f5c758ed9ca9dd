// One image of the tray: its thumbnail, its role, the weight of that role (one parameter for
// all the images of a role, so every one of them shows it), Describe and Remove.
import type { PromptParams } from '@shared/schemas/params-values';
import type { ReferenceRole } from '@shared/schemas/upload';
import { useId } from 'react';
import { ROLE_LABELS, type ROLE_WEIGHTS, type TrayImage } from '../utils/tray-image';
import { NumberField } from './number-field';

export type WeightKey = (typeof ROLE_WEIGHTS)[ReferenceRole];

export interface WeightDef {
  key: WeightKey;
  flag: string;
  label: string;
  hint: string;
  kind: 'int' | 'decimal';
  min: number;
  max: number;
  default?: number;
}

interface TrayItemProps {
  image: TrayImage;
  index: number;
  allRoles: readonly ReferenceRole[];
  /** The roles it may take (its own, and those with room). */
  roles: readonly ReferenceRole[];
  weight: WeightDef | undefined;
  effective: PromptParams;
  describing: boolean;
  describeDisabled: boolean;
  onRole: (role: ReferenceRole) => void;
  onWeight: (key: WeightKey, value: number | undefined) => void;
  onDescribe: () => void;
  onRemove: () => void;
}

export function TrayItem({ image, index, allRoles, roles, weight, effective, ...props }: TrayItemProps) {
  const weightId = useId();
  const number = index + 1;
  return (
    <li className="tray-item">
      <img className="tray-thumb" src={image.url} alt={`${ROLE_LABELS[image.role]} ${number}: ${image.name}`} />
      <div className="tray-controls">
        <select
          aria-label={`Role of image ${number}`}
          value={image.role}
          onChange={(event) => {
            const role = allRoles.find((option) => option === event.target.value);
            if (role) props.onRole(role);
          }}
        >
          {allRoles.map((role) => (
            <option key={role} value={role} disabled={!roles.includes(role)}>
              {ROLE_LABELS[role]}
            </option>
          ))}
        </select>
        {weight ? (
          <span className="tray-weight" title={weight.hint}>
            <label htmlFor={weightId}>
              {weight.label} <span className="setting-flag">{weight.flag}</span>
            </label>
            <NumberField
              id={weightId}
              value={effective[weight.key] ?? weight.default}
              min={weight.min}
              max={weight.max}
              step={weight.kind === 'decimal' ? 0.1 : 1}
              onChange={(value) => props.onWeight(weight.key, value)}
            />
          </span>
        ) : null}
        <div className="tray-buttons">
          <button
            type="button"
            onClick={props.onDescribe}
            disabled={props.describeDisabled}
            aria-label={`Describe image ${number}`}
          >
            {props.describing ? 'Describing…' : 'Describe'}
          </button>
          <button type="button" className="quiet" onClick={props.onRemove} aria-label={`Remove image ${number}`}>
            Remove
          </button>
        </div>
      </div>
    </li>
  );
}
