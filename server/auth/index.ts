/**
 * server/auth: who is asking and what each may do. Principals (principal.ts: the seam every
 * transport authenticates through); mTLS, JWT, per-topic grants and signature checks join it
 * (issue 14). Outside server/, reach it through server/index.ts.
 */
export { principalOf, rememberPrincipal, type Authenticate, type Principal, type ServerCall } from './principal.js';
export { AUTHORIZATION_METADATA_KEY, bearerTokenOf, combineAuthenticators, type Authenticators } from './authenticators.js';
export { AccessControl, type AccessControlOptions } from './access-control.js';
export { certificateAuthenticator, certificateName, rememberConnection, CERTIFICATE_AUTH_DEFAULTS, PRINCIPAL_FROM, type CertificateAuthenticatorOptions, type PrincipalFrom } from './certificate.js';
export { checkClaimedApps, mayActAs } from './apps.js';
export { AUTH_FAILURE_REASONS, countingFailures, failureReasonOf, type AuthFailureReason } from './failures.js';
export { DEFAULT_JWT_ALGORITHMS, JWT_DEFAULTS, JwtAuthenticator, isJwksUrl, jwtAuthenticator, jwtWithDefaults, type JwtOptions, type JwtStats, type ResolvedJwtOptions } from './jwt.js';
