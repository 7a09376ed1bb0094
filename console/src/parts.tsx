/** Small pieces every page draws the same way: an error line, and a table with column headers. */
import type { ComponentChildren } from 'preact';

/** An error said to screen readers as it appears; nothing when `error` is empty. */
export function ErrorLine({ error }: { error: string }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

/** A table with a header row of column headers (`head`), an optional caption, and its rows. */
export function Table({ head, caption, testid, children }: { head: readonly string[]; caption?: ComponentChildren; testid?: string; children: ComponentChildren }) {
  return (
    <table data-testid={testid}>
      {caption !== undefined && <caption>{caption}</caption>}
      <thead>
        <tr>
          {head.map((h) => (
            <th scope="col" key={h}>
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
