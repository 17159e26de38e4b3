import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { notImplementedAll } from '../not-implemented.js';

type Ops = 'getInstanceSettings' | 'updateInstanceSettings' | 'updateAuthMode' | 'signTos' | 'clearMovedFrom' | 'requestInstanceDeletion' | 'forceInstanceDeletion' | 'getContext' | 'getFeatureFlags' | 'getWarnings' | 'getExternalTies' | 'redirectToPremium' | 'getDiskUsage' | 'getClientsUsage';

export const settingsInstanceHandlers: Pick<Handlers<RequestContext>, Ops> = {
  ...notImplementedAll([
    'getInstanceSettings',
    'updateInstanceSettings',
    'updateAuthMode',
    'signTos',
    'clearMovedFrom',
    'requestInstanceDeletion',
    'forceInstanceDeletion',
    'getContext',
    'getFeatureFlags',
    'getWarnings',
    'getExternalTies',
    'redirectToPremium',
    'getDiskUsage',
    'getClientsUsage',
  ] as const),
};
