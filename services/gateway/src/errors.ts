import { CastellanError } from '@castellan/proto';
/** Errors of the gateway service; codes are listed in docs/errors.md. */
export const GatewayErrorCode = {
  ConfigInvalid: 'CASTELLAN_GATEWAY_CONFIG_INVALID',
  TlsMaterialInvalid: 'CASTELLAN_GATEWAY_TLS_MATERIAL_INVALID',
  ListenFailed: 'CASTELLAN_GATEWAY_LISTEN_FAILED',
} as const;

export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

export class GatewayError extends CastellanError<GatewayErrorCode> {
  override readonly name = 'GatewayError';
}
