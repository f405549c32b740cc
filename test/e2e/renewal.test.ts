import { describeRenewal } from '../support/renewal-case.js';

/**
 * Without ARI: renewed at half the lifetime, so a one-minute certificate renews about 30 s after
 * issuance, leaving 30 s for the renewal to reach the edges.
 */
describeRenewal({ ari: false, title: 'without ARI (renewalInfo removed from the directory)', validitySeconds: 60 });
