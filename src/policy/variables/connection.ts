/** Connection and identity variables. REMOTE_ADDR is the real client IP (after trusted-proxy resolution). */
import { storedScalar, type VariableSpec } from './variable-spec.js';

export const connectionVariables: readonly VariableSpec[] = [
  'REMOTE_ADDR',
  'REMOTE_PORT',
  'REMOTE_HOST',
  'REMOTE_USER',
  'SERVER_ADDR',
  'SERVER_PORT',
  'SERVER_NAME',
  'UNIQUE_ID',
  'AUTH_TYPE',
  'SESSIONID',
  'USERID',
  'WEBAPPID',
  'WEBSERVER_ERROR_LOG',
].map(storedScalar);
