/** Builds validated-config objects for policy tests (the shape src/config/load.ts produces). */
import type { CrsPolicy, GatewayConfig, NativePolicies, OperationMode, SecLangPolicy, ServerGroup } from '../../src/config/types.js';

export const CRS_RULES_DIR = '/usr/share/modsecurity-crs/rules';
export const CRS_SETUP = '/etc/modsecurity/crs/crs-setup.conf';

export function crsPolicy(over: Partial<CrsPolicy> = {}): CrsPolicy {
  return {
    paranoiaLevel: 1,
    executingParanoiaLevel: null,
    inboundAnomalyThreshold: 5,
    outboundAnomalyThreshold: 4,
    rulesDir: CRS_RULES_DIR,
    setupFile: CRS_SETUP,
    removeRuleIds: [],
    removeRuleTags: [],
    before: [],
    setVars: {},
    ...over,
  };
}

export function nativePolicies(over: Partial<NativePolicies> = {}): NativePolicies {
  return {
    ipAllow: [],
    ipDeny: [],
    allowedMethods: null,
    maxUrlBytes: null,
    maxHeaderBytes: null,
    maxBodyBytes: null,
    rateLimit: null,
    rules: [],
    ...over,
  };
}

export interface GroupSpec {
  name: string;
  operationMode: OperationMode;
  crs?: CrsPolicy | null;
  secLang?: Partial<SecLangPolicy>;
  native?: Partial<NativePolicies>;
}

export function gatewayConfig(groups: GroupSpec[], sourceFile = '/tmp/portcullis-test.yaml'): GatewayConfig {
  const pos = { file: sourceFile, line: 1, col: 1 };
  const serverGroups: ServerGroup[] = groups.map((g, i) => ({
    name: g.name,
    operationMode: g.operationMode,
    servers: ['127.0.0.1'],
    policies: {
      crs: g.crs ?? null,
      secLang: { files: [], directives: null, ...g.secLang },
      native: nativePolicies(g.native),
    },
    services: [],
    pos: { ...pos, line: 10 + i },
  }));
  return { sourceFile, gateway: {} as GatewayConfig['gateway'], sites: [{ name: 'Default Site', serverGroups, pos }] };
}
