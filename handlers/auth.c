/* auth.c — the /auth routes: who the token speaks for, what it may do, validating
 * another token, logging out (revoking the presented token everywhere) and
 * the role bindings. */
#include <string.h>

#include "app.h"
#include "http.h"
#include "routes.h"

int handle_auth_me_get(struct request *r)
{
	return respond_json(r, 200, principal_to_json(r->principal));
}

int handle_auth_permissions_get(struct request *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "permissions",
			       permission_set_to_json(permission_effective(r->principal->permissions)));
	json_object_object_add(o, "catalog", permission_catalog_json());
	return respond_json(r, 200, o);
}

int handle_auth_validate_post(struct request *r)
{
	json_object *body, *token, *o, *me;
	struct principal p;
	struct auth_failure why;

	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	if (!json_object_object_get_ex(body, "token", &token) ||
	    !json_object_is_type(token, json_type_string)) {
		json_object *fields = json_object_new_object();

		json_object_put(body);
		json_object_object_add(fields, "token", json_object_new_string("a string is required"));
		return respond_invalid_fields(r, fields);
	}
	principal_init(&p);
	o = json_object_new_object();
	if (auth_check_token(r->app->auth, json_object_get_string(token), &p, &why) != 0) {
		json_object_object_add(o, "active", json_object_new_boolean(0));
	} else {
		me = principal_to_json(&p);
		json_object_object_add(o, "active", json_object_new_boolean(1));
		json_object_object_foreach(me, key, val)
			if (strcmp(key, "sub") == 0 || strcmp(key, "permissions") == 0 ||
			    strcmp(key, "tenant") == 0 || strcmp(key, "expires_at") == 0 ||
			    strcmp(key, "username") == 0)
				json_object_object_add(o, key, json_object_get(val));
		json_object_put(me);
	}
	principal_release(&p);
	json_object_put(body);
	return respond_json(r, 200, o);
}

int handle_auth_logout_post(struct request *r)
{
	struct infra_error err;

	request_drain_body(r);
	if (auth_revoke(r->app->auth, r->principal, &err) != 0) {
		http_audit(r, "auth.logout", "token", r->principal->jti, "failure", NULL);
		return respond_infra_error(r, &err);
	}
	http_audit(r, "auth.logout", "token", r->principal->jti, "success", NULL);
	return respond_no_content(r);
}

int handle_auth_roles_get(struct request *r)
{
	struct infra_error err;
	json_object *o;

	if (auth_roles_list(r->app->auth, &o, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, o);
}

int handle_auth_role_put(struct request *r)
{
	const char *role = request_path_param(r, "role");
	json_object *body, *perms, *o, *details;
	struct infra_error err;

	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	if (!json_object_object_get_ex(body, "permissions", &perms) ||
	    !json_object_is_type(perms, json_type_array)) {
		json_object *fields = json_object_new_object();

		json_object_put(body);
		json_object_object_add(fields, "permissions",
				       json_object_new_string("an array of permission names is required"));
		return respond_invalid_fields(r, fields);
	}
	details = json_object_new_object();
	json_object_object_add(details, "permissions", json_object_get(perms));
	if (auth_roles_put(r->app->auth, role, perms, r->principal->username, &err) != 0) {
		http_audit(r, "auth.role_binding.update", "role", role, "failure", details);
		json_object_put(body);
		return respond_infra_error(r, &err);
	}
	http_audit(r, "auth.role_binding.update", "role", role, "success", json_object_get(details));
	o = json_object_new_object();
	json_object_object_add(o, "role", json_object_new_string(role));
	json_object_object_add(o, "permissions", json_object_get(perms));
	json_object_put(details);
	json_object_put(body);
	return respond_json(r, 200, o);
}
