export {
  certificateDnsNames,
  certificateExpiry,
  certificateIpAddresses,
  createCertificateAuthority,
  issueCertificate,
} from './certificates.js';
export type { AuthorityOptions, CertificateAndKey, LeafOptions } from './certificates.js';
