/* error.c — filling the one error type of libinfra (see error.h). */
#include <stdio.h>
#include <string.h>

#include "error.h"

static int fail_va(struct infra_error *err, enum infra_errkind kind,
		   const char *field, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	err->kind = kind;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	return -1;
}

int infra_fail(struct infra_error *err, enum infra_errkind kind,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_va(err, kind, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int infra_fail_field(struct infra_error *err, const char *field,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_va(err, INFRA_EINVAL, field, fmt, ap);
	va_end(ap);
	return -1;
}

void infra_error_clear(struct infra_error *err)
{
	if (err == NULL)
		return;
	err->kind = INFRA_OK;
	err->message[0] = '\0';
	err->field[0] = '\0';
}

const char *infra_errkind_name(enum infra_errkind kind)
{
	switch (kind) {
	case INFRA_OK:         return "ok";
	case INFRA_EINVAL:     return "invalid";
	case INFRA_EMALFORMED: return "malformed";
	case INFRA_ENOTFOUND:  return "not_found";
	case INFRA_ECONFLICT:  return "conflict";
	case INFRA_EPRECOND:   return "precondition_failed";
	case INFRA_EMIGRATION: return "migration";
	case INFRA_EAUTH:      return "unauthenticated";
	case INFRA_EFORBIDDEN: return "forbidden";
	case INFRA_EUNAVAIL:   return "unavailable";
	case INFRA_EINTERNAL:  return "internal";
	}
	return "internal";
}
