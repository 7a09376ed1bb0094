/**
 * The confirmation every action goes through: a modal <dialog> (the browser keeps focus inside
 * it and closes it on Escape) that names exactly what will change, asks for what the action
 * needs (a reason, a scope), and shows the API's refusal if it refuses. Focus moves to its first
 * field on open and back to the control that opened it on close.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from './api.js';
import { parseScope } from './format.js';
import type { Scope } from './wire.js';
import { ErrorLine } from './parts.js';

export interface ActionInput {
  readonly reason: string;
  readonly scope: Scope;
}

export interface ConfirmSpec {
  readonly title: string;
  /** The sentence naming exactly what will change, from what is typed so far. */
  readonly change: (input: ActionInput) => string;
  readonly confirmLabel: string;
  /** A reason field: required (a pin) or optional (pause, cancel). @default none */
  readonly reason?: 'required' | 'optional';
  /** A scope field: required (add scopes) or optional (pin: empty is everyone). @default none */
  readonly scope?: 'required' | 'optional';
  /** Does it; a refusal is shown in the dialog. */
  readonly run: (input: ActionInput) => Promise<void>;
}

export function ConfirmDialog({ spec, onClose }: { spec: ConfirmSpec; onClose: (done: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [scopeText, setScopeText] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const d = ref.current;
    d?.showModal();
    d?.querySelector<HTMLElement>('input, textarea, button')?.focus();
    return () => {
      if (d?.open) d.close();
      opener?.focus();
    };
  }, []);

  const parsed = parseScope(scopeText);
  const scope: Scope = typeof parsed === 'string' ? { match: {} } : parsed;
  const input = { reason: reason.trim(), scope };
  const problem =
    typeof parsed === 'string'
      ? `Scope: ${parsed}`
      : spec.scope === 'required' && Object.keys(parsed.match).length === 0
        ? 'Scope: give at least one key=value pair'
        : spec.reason === 'required' && input.reason === ''
          ? 'A reason is required'
          : '';

  const submit = async (e: Event) => {
    e.preventDefault();
    if (problem || busy) return;
    setBusy(true);
    setError('');
    try {
      await spec.run(input);
      onClose(true);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <dialog ref={ref} aria-labelledby="dialog-title" onCancel={(e) => (e.preventDefault(), onClose(false))}>
      <form onSubmit={submit}>
        <h2 id="dialog-title">{spec.title}</h2>
        {spec.scope && (
          <p>
            <label for="dialog-scope">Scope (key=value, comma-separated{spec.scope === 'optional' ? '; empty: every consumer' : ''})</label>
            <input id="dialog-scope" value={scopeText} onInput={(e) => setScopeText(e.currentTarget.value)} required={spec.scope === 'required'} autocomplete="off" />
          </p>
        )}
        {spec.reason && (
          <p>
            <label for="dialog-reason">Reason{spec.reason === 'required' ? ' (required)' : ' (optional)'}</label>
            <textarea id="dialog-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} required={spec.reason === 'required'} maxLength={1024} rows={2} />
          </p>
        )}
        <p class="change" role="status" data-testid="dialog-change">
          {spec.change(input)}
        </p>
        {problem && <p class="hint">{problem}</p>}
        <ErrorLine error={error} />
        <div class="buttons">
          <button type="button" onClick={() => onClose(false)}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={problem !== '' || busy}>
            {spec.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
