// A number input for one parameter that shows what the text says, yet lets a value be typed
// through states that are not a value yet ("1.", "") without the text fighting back.
import { useState } from 'react';

interface NumberFieldProps {
  value: number | undefined;
  min: number;
  max: number;
  step: number;
  /** Called with each value in range as it is typed, and with undefined when the field is emptied. */
  onChange: (value: number | undefined) => void;
  /** With a <label htmlFor={id}> elsewhere; else `label` names the field. */
  id?: string;
  label?: string;
  describedBy?: string;
  disabled?: boolean;
  placeholder?: string;
  className?: string;
}

export function NumberField({ value, min, max, step, onChange, label, describedBy, ...rest }: NumberFieldProps) {
  const [typed, setTyped] = useState<string | null>(null);
  const whole = Number.isInteger(step);
  return (
    <input
      type="number"
      inputMode={whole ? 'numeric' : 'decimal'}
      min={min}
      max={max}
      step={step}
      value={typed ?? (value === undefined ? '' : String(value))}
      aria-label={label}
      aria-describedby={describedBy}
      onChange={(event) => {
        const raw = event.target.value;
        setTyped(raw);
        if (raw.trim() === '') return onChange(undefined);
        const number = Number(raw);
        if (Number.isFinite(number) && number >= min && number <= max && (!whole || Number.isInteger(number))) {
          onChange(number);
        }
      }}
      onBlur={() => setTyped(null)}
      {...rest}
    />
  );
}
