/**
 * How the roles' process is started, beyond `node dist/main.js <role>`: by `npm start`, by the
 * image (Dockerfile) and by the benches, which measure what is deployed. A test holds the three to
 * this (test/unit/deploy/process-tuning.test.ts).
 *
 * `MALLOC_MMAP_THRESHOLD_=131072` keeps glibc's mmap threshold at its default instead of raising it,
 * for good, to the largest block freed so far. Loading the bundle frees blocks of megabytes (the
 * bundle's and the code cache's buffers); with the threshold raised to that, the compilers'
 * scratch memory of the rest of the start-up was kept in glibc's arenas, about 11 MB resident for
 * the life of an idle web role. At the default threshold such blocks go back to the system when
 * freed. Ignored where the C library is not glibc.
 */
export const PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072' };
