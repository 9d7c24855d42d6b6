/**
 * Bundled for `msgpackr-extract` in the CLI's request half (`npm run build:cli`). msgpackr tries
 * that native decoder in a try/catch and does without it; from a bundle it cannot be found anyway,
 * so looking (which loads child_process, probes libc and the file system) is pure start-up cost.
 */
throw new Error('msgpackr-extract is not part of the CLI bundle');
