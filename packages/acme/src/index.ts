export { AcmeAccount, createAccountKey, describeCertificate } from './account.js';
export type { AcmeAccountOptions, Http01Responder, IssuedCertificate } from './account.js';
export { configureAcmeHttp } from './http.js';
export { AcmeProblemError, AcmeValidationError, parseRetryAfter } from './problem.js';
