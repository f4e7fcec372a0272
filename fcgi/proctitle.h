/* proctitle.h — process titles as nginx and php-fpm set them, so `ps`
 * shows "infrad: master", "infrad: worker", "infrad: runner". */
#ifndef INFRA_PROCTITLE_H
#define INFRA_PROCTITLE_H

/* Call once at the start of main(), before anything reads environ: moves
 * the environment out of the way so the argv area can be overwritten.
 * Returns 0, or -1 when out of memory (titles then stay unchanged). */
int proctitle_init(int argc, char **argv);

/* Set the title shown by ps (argv area) and the thread name (comm). */
void proctitle_set(const char *title);

#endif
