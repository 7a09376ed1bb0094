/**
 * `imprint acl show|grant|revoke TOPIC`: per-topic access control (README "Access control per
 * topic"). ROLE and WHO are checked here first, so a mistake names the argument.
 */
import type { Command } from 'commander';
import { ROLES, validateGrantee, validateRole, type Grant } from '../core/index.js';
import type { LifecycleContext } from './lifecycle.js';

const ROLE_HELP = `owner (everything, the topic and its grants included), publisher (publish, add scopes), operator (pin, unpin), consumer (poll, watch, read versions)`;
const WHO_HELP = 'a principal (a certificate SAN or CN, a JWT subject), group:NAME (a group claim), or * (any authenticated principal)';

/** The grants as a table, or what having none means. */
export function grantsText(topic: string, grants: readonly Grant[]): string {
  if (grants.length === 0) return `no grants on ${topic}: the server's default policy applies (--default-consume), and only admins (--admin) may change it`;
  const width = Math.max(...grants.map((g) => g.role.length), 'ROLE'.length);
  return [`${'ROLE'.padEnd(width)}  WHO`, ...grants.map((g) => `${g.role.padEnd(width)}  ${g.grantee}`)].join('\n');
}

function grantOf(role: string, who: string): Grant {
  return { role: validateRole(role, 'ROLE'), grantee: validateGrantee(who, 'WHO') };
}

export function addAclCommands(program: Command, ctx: LifecycleContext): void {
  const acl = program
    .command('acl')
    .description("who may do what to a topic: show, grant and revoke roles (an owner's or admin's action on a server with authentication)")
    .addHelpText(
      'after',
      `
Roles: ${ROLE_HELP}.
  Publishers and operators also read what consumers read, and the topic's history.
WHO: ${WHO_HELP}.

Examples:
  imprint acl show ip-reputation
  imprint acl grant ip-reputation publisher spiffe://prod/ns/ml/sa/trainer
  imprint acl grant ip-reputation consumer group:scoring
  imprint acl revoke ip-reputation consumer '*'`,
    );
  acl
    .command('show <topic>')
    .description("the topic's grants, by role (owner first)")
    .action(
      ctx.withClient(async (client, topic: string) => {
        const grants = await client.getAccess(topic);
        ctx.out(grants, () => grantsText(topic, grants));
      }),
    );
  acl
    .command('grant <topic> <role> <who>')
    .description(`give ROLE on TOPIC to WHO (in the topic's history). ROLE: ${ROLES.join(', ')}`)
    .action(
      ctx.withClient(async (client, topic: string, role: string, who: string) => {
        const g = grantOf(role, who);
        const done = await client.grantAccess(topic, g);
        ctx.out(done, () => `${done.changed ? 'granted' : 'already granted:'} ${g.role} on ${topic} to ${g.grantee}\n${grantsText(topic, done.grants)}`);
      }),
    );
  acl
    .command('revoke <topic> <role> <who>')
    .description(`take ROLE on TOPIC back from WHO (in the topic's history). ROLE: ${ROLES.join(', ')}`)
    .action(
      ctx.withClient(async (client, topic: string, role: string, who: string) => {
        const g = grantOf(role, who);
        const done = await client.revokeAccess(topic, g);
        ctx.out(done, () => `${done.changed ? 'revoked' : 'no such grant:'} ${g.role} on ${topic} from ${g.grantee}\n${grantsText(topic, done.grants)}`);
      }),
    );
}
