import { Observable, type ConfigurationOptions, type ObservableMiddleware } from '@kubernetes/client-node';

function timeoutMiddleware(ms: number): ObservableMiddleware {
  return {
    pre: (ctx) => {
      ctx.setSignal(AbortSignal.timeout(ms));
      return new Observable(Promise.resolve(ctx));
    },
    post: (rsp) => new Observable(Promise.resolve(rsp)),
  };
}

/** Per-call options of @kubernetes/client-node that abort a request after `ms`. */
export function requestTimeout(ms: number): ConfigurationOptions {
  return { middleware: [timeoutMiddleware(ms)], middlewareMergeStrategy: 'append' };
}
