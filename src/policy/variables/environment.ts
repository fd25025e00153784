/**
 * ENV (setenv values of this transaction) and GEO (no GeoIP database is loaded: always empty, so
 * geoLookup-dependent rules do not match, as with ModSecurity without SecGeoLookupDb).
 */
import { collectionOf, type VariableSpec } from './variable-spec.js';
import { ListCollection } from '../collection.js';

const EMPTY = new ListCollection();

export const environmentVariables: readonly VariableSpec[] = [
  collectionOf('ENV', (tx) => tx.env, false),
  collectionOf('GEO', () => EMPTY, false),
];
