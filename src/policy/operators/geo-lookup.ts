/**
 * @geoLookup — ModSecurity v2 looks the address up in SecGeoLookupDb and fills GEO. Portcullis ships no
 * geolocation database; v2 without one logs "attempted without a database" and does not match, and this
 * does the same. CRS 3.3.4 loads rule 910100 with it but only runs it when tx.high_risk_country_codes is
 * configured, so the default setup is unaffected.
 */
import type { OperatorSpec } from '../types.js';

export const geoLookup: OperatorSpec = {
  name: 'geoLookup',
  create() { return { evaluate: () => false }; },
};
