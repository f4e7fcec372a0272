/* exec_recorder.c — the runner's recorder thread and its connection (see
 * exec_recorder.h): a queue of jobs in, a queue of finished jobs out, an
 * eventfd that turns readable when the second one has something. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "exec_recorder.h"
#include "log.h"

struct queue {
	struct recorder_job *head, *tail;
};

static struct recorder {
	bool started, threaded, stopping;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* a job came, or one finished */
	struct queue todo, finished;
	size_t busy;			/* jobs submitted and not finished */
	int fd;
	struct db db;
} rec = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER, .fd = -1 };

static void push(struct queue *q, struct recorder_job *job)
{
	job->next = NULL;
	if (q->tail != NULL)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
}

static struct recorder_job *pop(struct queue *q)
{
	struct recorder_job *job = q->head;

	if (job != NULL && (q->head = job->next) == NULL)
		q->tail = NULL;
	return job;
}

static void *recorder_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&rec.lock);
	for (;;) {
		struct recorder_job *job = pop(&rec.todo);
		uint64_t one = 1;

		if (job == NULL) {
			if (rec.stopping)
				break;
			pthread_cond_wait(&rec.changed, &rec.lock);
			continue;
		}
		pthread_mutex_unlock(&rec.lock);
		job->work(job, &rec.db);
		pthread_mutex_lock(&rec.lock);
		push(&rec.finished, job);
		rec.busy--;
		pthread_cond_broadcast(&rec.changed);
		if (write(rec.fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
			/* A full counter is still readable. */
		}
	}
	pthread_mutex_unlock(&rec.lock);
	return NULL;
}

void *recorder_job_new(size_t size, void (*work)(struct recorder_job *job, struct db *db),
		       void (*done)(struct recorder_job *job))
{
	struct recorder_job *job = calloc(1, size);

	if (job == NULL)
		abort();
	job->work = work;
	job->done = done;
	return job;
}

void recorder_start(const struct config *cfg)
{
	sigset_t all, old;

	if (rec.started)
		return;
	rec.started = true;
	db_init(&rec.db, cfg->database_url, cfg->db_connect_timeout_s, cfg->db_statement_timeout_ms,
		"infrad-recorder");
	rec.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rec.fd < 0) {
		log_errno("eventfd", "the migration recorder");
		return;
	}
	/* Signals are the runner's main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	errno = pthread_create(&rec.thread, NULL, recorder_main, NULL);
	rec.threaded = errno == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!rec.threaded) {
		log_errno("pthread_create", "the migration recorder");
		close(rec.fd);
		rec.fd = -1;
	}
}

int recorder_fd(void)
{
	return rec.threaded ? rec.fd : -1;
}

void recorder_submit(struct recorder_job *job)
{
	if (!rec.threaded) {
		job->work(job, &rec.db);
		job->done(job);
		return;
	}
	pthread_mutex_lock(&rec.lock);
	push(&rec.todo, job);
	rec.busy++;
	pthread_cond_broadcast(&rec.changed);
	pthread_mutex_unlock(&rec.lock);
}

void recorder_collect(void)
{
	struct queue done;
	struct recorder_job *job;
	uint64_t n;

	if (!rec.threaded)
		return;
	if (read(rec.fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing signalled since the last read. */
	}
	pthread_mutex_lock(&rec.lock);
	done = rec.finished;
	rec.finished = (struct queue){ NULL, NULL };
	pthread_mutex_unlock(&rec.lock);
	while ((job = pop(&done)) != NULL)
		job->done(job);
}

void recorder_wait(void)
{
	bool idle = false;

	if (!rec.threaded)
		return;
	/* A `done` may submit another job (the next batch): wait for it too. */
	while (!idle) {
		pthread_mutex_lock(&rec.lock);
		while (rec.busy > 0)
			pthread_cond_wait(&rec.changed, &rec.lock);
		pthread_mutex_unlock(&rec.lock);
		recorder_collect();
		pthread_mutex_lock(&rec.lock);
		idle = rec.busy == 0;
		pthread_mutex_unlock(&rec.lock);
	}
}

void recorder_stop(void)
{
	if (!rec.started)
		return;
	if (rec.threaded) {
		recorder_wait();
		pthread_mutex_lock(&rec.lock);
		rec.stopping = true;
		pthread_cond_broadcast(&rec.changed);
		pthread_mutex_unlock(&rec.lock);
		pthread_join(rec.thread, NULL);
		close(rec.fd);
	}
	db_release(&rec.db);
	rec.started = rec.threaded = rec.stopping = false;
	rec.fd = -1;
}
