/**
 * The issue-13 contract as this package uses it. These mirror `@certfleet/hostnames` (the api
 * branch's service module) until it is merged; then they are imported from there.
 */
export type HostnameEventType =
  | 'hostname.created'
  | 'hostname.deleted'
  | 'certificate.issued'
  | 'certificate.renewed'
  | 'certificate.failed'
  | 'certificate.retired'
  | 'certificate.expiring';

/** Implemented here; called by the hostname service, the issuer and the renewer. Never throws. */
export interface HostnameEventSink {
  publish(type: HostnameEventType, hostname: string, key?: string): Promise<void>;
}

/** The hostname object of the API, as `describeHostname` gives it; carried as the event's data. */
export type HostnameData = { hostname: string } & Record<string, unknown>;

/** Reads one hostname's object now; null when certfleet knows nothing of it (e.g. purged). */
export type DescribeHostname = (hostname: string) => Promise<HostnameData | null>;
