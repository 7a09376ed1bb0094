/**
 * Retention of the audit indices: an ILM policy (`<prefix>`, e.g. `imprint-audit`) whose delete
 * phase removes a daily index `retentionDays` after it was created (no rollover: the indices
 * stay daily, so the queries and the Kibana index pattern `<prefix>-*` are unchanged). The
 * sink puts it at start with the index template (idempotent: a policy already tagged with this
 * version and retention is left alone), and the template's settings name it, so every new
 * daily index is managed; indices made before (an upgrade) are pointed at it too.
 *
 * A cluster without ILM (the stripped integ-test distribution has no x-pack-ilm module; every
 * default distribution has it, basic licence) answers the ILM API with "no handler found":
 * then the template does not name the policy (the setting would be unknown there) and the
 * sink deletes old daily indices itself (purgeAuditIndices) once a day.
 */
import { errors, type Client } from '@elastic/elasticsearch';

/** Version stamped in the policy's _meta; bump it when the policy's shape changes. */
export const AUDIT_LIFECYCLE_VERSION = 1;

/** The ILM policy body for a retention. */
export function auditLifecyclePolicy(retentionDays: number): { _meta: Record<string, unknown>; phases: Record<string, unknown> } {
  return {
    _meta: { managed_by: 'imprint', version: AUDIT_LIFECYCLE_VERSION, retention_days: retentionDays, description: 'Imprint audit indices: deleted retention_days after creation' },
    phases: {
      hot: { min_age: '0ms', actions: {} },
      delete: { min_age: `${retentionDays}d`, actions: { delete: {} } },
    },
  };
}

/** Whether an error is the answer of a cluster without the ILM API. */
function noIlm(err: unknown): boolean {
  if (!(err instanceof errors.ResponseError) || (err.statusCode !== 400 && err.statusCode !== 405)) return false;
  return /no handler found|Incorrect HTTP method/.test(JSON.stringify(err.body ?? err.message));
}

/**
 * Puts the policy `name` with this retention unless it is there already, tagged with this
 * version and retention. Returns false when the cluster has no ILM.
 */
export async function installAuditLifecycle(client: Client, name: string, retentionDays: number, req: { requestTimeout?: number; signal?: AbortSignal; maxRetries?: number } = {}): Promise<boolean> {
  const policy = auditLifecyclePolicy(retentionDays);
  try {
    const existing = await client.ilm.getLifecycle({ name }, { ...req, ignore: [404] });
    const meta = (existing as Record<string, { policy?: { _meta?: Record<string, unknown> } } | undefined>)[name]?.policy?._meta;
    if (meta?.['version'] === AUDIT_LIFECYCLE_VERSION && meta['retention_days'] === retentionDays && meta['managed_by'] === 'imprint') return true;
    await client.ilm.putLifecycle({ name, policy }, req);
    return true;
  } catch (err) {
    if (noIlm(err)) return false;
    throw err;
  }
}
