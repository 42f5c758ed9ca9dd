// The prompt box's images: a thumbnail each with its role, that role's weight, Describe and
// Remove (tray-item.tsx); Blend for 2 to 5 of them; and why an upload, a describe or a blend
// was refused. Loaded when the first image arrives.
import { PARAMS, type PromptParams } from '@shared/schemas/params-values';
import type { BlendShape, ReferenceRole } from '@shared/schemas/upload';
import { useState } from 'react';
import { useContract } from '@/lib/use-contract';
import { useBlendImages } from '../api/blend-images';
import { useDescribeImage } from '../api/describe-image';
import { rolesWithRoom, type ImageTray as Tray } from '../hooks/use-image-tray';
import { ROLE_WEIGHTS } from '../utils/tray-image';
import { TrayItem, type WeightDef, type WeightKey } from './tray-item';

interface ImageTrayProps {
  tray: Tray;
  /** The prompt's parameters, for the weights. */
  effective: PromptParams;
  onWeight: (key: WeightKey, value: number | undefined) => void;
  onRemove: (key: string) => void;
}

function weightOf(role: ReferenceRole): WeightDef | undefined {
  const key = ROLE_WEIGHTS[role];
  const def = PARAMS.find((entry) => entry.key === key);
  return def && (def.kind === 'int' || def.kind === 'decimal') ? { ...def, key } : undefined;
}

const capitalised = (word: string) => `${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`;

export function ImageTray({ tray, effective, onWeight, onRemove }: ImageTrayProps) {
  // The roles and shapes come with the contract, as do all values of zod's modules (contract.ts).
  const contract = useContract();
  const describe = useDescribeImage();
  const blend = useBlendImages();
  const [shape, setShape] = useState<BlendShape>('square');
  const canBlend = tray.images.length >= 2 && tray.images.length <= 5 && tray.uploading.length === 0;
  const errors = [...tray.errors, describe.error?.message, blend.error?.message].filter(Boolean);
  if (!contract) return null;
  const { BLEND_SHAPES, REFERENCE_ROLES } = contract;

  return (
    <section className="image-tray" aria-label="Images for this prompt">
      <ul className="tray-list">
        {tray.images.map((image, index) => (
          <TrayItem
            key={image.key}
            image={image}
            index={index}
            allRoles={REFERENCE_ROLES}
            roles={[image.role, ...rolesWithRoom(tray, tray.limits, image.key)]}
            weight={weightOf(image.role)}
            effective={effective}
            describing={describe.isPending && describe.variables.image === image.ref}
            describeDisabled={describe.isPending}
            onRole={(role) => tray.setRole(image.key, role)}
            onWeight={onWeight}
            onDescribe={() => describe.mutate({ image: image.ref })}
            onRemove={() => onRemove(image.key)}
          />
        ))}
        {tray.uploading.map((upload) => (
          <li key={upload.key} className="tray-item uploading" aria-busy="true">
            <span className="tray-placeholder">Uploading {upload.name}…</span>
          </li>
        ))}
      </ul>
      {canBlend ? (
        <div className="tray-blend">
          <label>
            Blend shape{' '}
            <select
              value={shape}
              onChange={(event) => setShape(BLEND_SHAPES.find((option) => option === event.target.value) ?? 'square')}
            >
              {BLEND_SHAPES.map((option) => (
                <option key={option} value={option}>
                  {capitalised(option)}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            onClick={() => blend.mutate({ images: tray.images.map((image) => image.ref), shape })}
            disabled={blend.isPending}
          >
            {blend.isPending ? 'Blending…' : `Blend ${tray.images.length} images`}
          </button>
        </div>
      ) : null}
      {errors.length > 0 ? (
        <ul className="form-error tray-errors" role="alert">
          {errors.map((error) => (
            <li key={error}>{error}</li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
