import { CastellanError } from '@castellan/proto';

export const BusAuthErrorCode = {
  AuthorityInvalid: 'CASTELLAN_BUS_AUTHORITY_INVALID',
} as const;

export type BusAuthErrorCode = (typeof BusAuthErrorCode)[keyof typeof BusAuthErrorCode];

export class BusAuthError extends CastellanError<BusAuthErrorCode> {
  override readonly name = 'BusAuthError';
}
