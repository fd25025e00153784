/** Engine settings set by configuration directives (SecRuleEngine, SecRequestBodyLimit …). */
export type RuleEngineMode = 'On' | 'Off' | 'DetectionOnly';

export interface EngineSettings {
  ruleEngine: RuleEngineMode;
  requestBodyAccess: boolean;
  requestBodyLimit: number;
  requestBodyNoFilesLimit: number;
  requestBodyInMemoryLimit: number;
  requestBodyLimitAction: 'Reject' | 'ProcessPartial';
  responseBodyAccess: boolean;
  responseBodyLimit: number;
  responseBodyLimitAction: 'Reject' | 'ProcessPartial';
  /** Lower-case MIME types whose response bodies are inspected. */
  responseBodyMimeTypes: string[];
  argumentSeparator: string;
  cookieFormat: 0 | 1;
  /** Seconds of inactivity after which a persistent collection record is dropped. */
  collectionTimeout: number;
  argumentsLimit: number;
  componentSignatures: string[];
  /** Directives accepted for compatibility and recorded only (audit log, debug log, tmp dirs …). */
  recorded: Record<string, string>;
}

/** ModSecurity v2's built-in defaults. */
export function defaultSettings(): EngineSettings {
  return {
    ruleEngine: 'Off',
    requestBodyAccess: false,
    requestBodyLimit: 134217728,
    requestBodyNoFilesLimit: 1048576,
    requestBodyInMemoryLimit: 131072,
    requestBodyLimitAction: 'Reject',
    responseBodyAccess: false,
    responseBodyLimit: 524288,
    responseBodyLimitAction: 'Reject',
    responseBodyMimeTypes: ['text/plain', 'text/html'],
    argumentSeparator: '&',
    cookieFormat: 0,
    collectionTimeout: 3600,
    argumentsLimit: 1000,
    componentSignatures: [],
    recorded: {},
  };
}

export function cloneSettings(s: EngineSettings): EngineSettings {
  return {
    ...s,
    responseBodyMimeTypes: [...s.responseBodyMimeTypes],
    componentSignatures: [...s.componentSignatures],
    recorded: { ...s.recorded },
  };
}
