export { AcmeAccount, createAccountKey, createAlpnChallengeCertificate, describeCertificate } from './account.js';
export type { AcmeAccountOptions, ChallengeResponder, IssuedCertificate, KeyType, PendingChallenge } from './account.js';
export { configureAcmeHttp } from './http.js';
export type { AcmeRequestObservation } from './http.js';
export { AcmeProblemError, AcmeValidationError, parseRetryAfter } from './problem.js';
export { classifyAcmeFailure } from './classify.js';
export type { Classified, FailureKind } from './classify.js';
export { ariCertificateId, clampRetryAfter, pickRenewalTime } from './ari.js';
export type { RenewalWindow } from './ari.js';
