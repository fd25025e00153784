/** A sniff-mode configuration (through the real loader) with small SecLang rules the tests trigger. */
import { parseConfigText } from '../../src/config/load.js';
import type { GatewayConfig, OperationMode } from '../../src/config/types.js';

export const SERVER_IP = '10.1.0.2';

export function sniffConfigText(operationMode: OperationMode, server = SERVER_IP, iface = 'lo', extraGateway = ''): string {
  return `
gateway:
  mode: sniff
  sniff: { interface: ${iface} }
${extraGateway}
sites:
  - name: Test
    serverGroups:
      - name: web
        operationMode: ${operationMode}
        servers: [${server}]
        policies:
          secLang:
            directives: |
              SecRuleEngine On
              SecRequestBodyAccess On
              SecResponseBodyAccess On
              SecResponseBodyMimeType text/plain text/html
              SecRule ARGS "@contains attack" "id:1001,phase:2,deny,status:403,log,msg:'attack in args'"
              SecRule REQUEST_HEADERS:X-Evil "@streq 1" "id:1003,phase:1,deny,status:403,log,msg:'evil header'"
              SecRule RESPONSE_BODY "@contains secret-leak" "id:1002,phase:4,deny,status:403,log,msg:'leak in response'"
        services:
          - name: web
            ports: [80]
            sslPorts: [443]
`;
}

export function sniffConfig(operationMode: OperationMode, file = '/tmp/portcullis-sniff-test.yaml'): GatewayConfig {
  const r = parseConfigText(sniffConfigText(operationMode), file);
  if (!r.ok) throw new Error(`test configuration invalid: ${JSON.stringify(r.errors)}`);
  return r.config;
}
