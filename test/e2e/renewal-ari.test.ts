import { describeRenewal } from '../support/renewal-case.js';

/**
 * With ARI (Pebble 2.6 renewalInfo): Pebble's window for a short certificate reaches past its
 * expiry (its ideal point ± a day), so the renewal falls at a random point from now to the last
 * tenth of the life. 90 s keeps that last tenth (9 s) well above what a renewal takes on a
 * loaded machine (a renewer tick and an order: 1-3 s seen).
 */
describeRenewal({ ari: true, title: 'with ARI (Pebble 2.6 renewalInfo)', validitySeconds: 90 });
