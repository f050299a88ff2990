import { useEffect, useRef } from 'preact/hooks';

/**
 * For an uncontrolled field that shows a stored value: a reload landing while someone types never overwrites
 * their input, and a value saved elsewhere shows once the field is not being edited. Give the ref to the input
 * and `shown` as its defaultValue.
 */
export function useEditedField(shown: string) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (input.current && document.activeElement !== input.current) input.current.value = shown;
  }, [shown]);
  return input;
}
