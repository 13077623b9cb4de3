/* mptcpcfg: agent.json's "mptcp" map (mptcpcfg.h), apart from the netlink
 * code so the config's fuzz target links it alone. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "agentcfg.h"
#include "jsonconf.h"
#include "mptcpcfg.h"

static const char *const mode_names[] = { "off", "subflow", "fullmesh", "backup" };

const char *mptcp_mode_name(enum mptcp_mode m)
{
	return mode_names[m];
}

int mptcp_cfg_parse(struct json_object *v, struct mptcp_cfg *c, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_object))
		return jsonconf_bad(err, errlen, "mptcp: must be an object like {\"wan*\": \"subflow\"}, got %.64s",
				    json_object_to_json_string(v));
	c->n = 0;
	json_object_object_foreach(v, key, val) {
		struct mptcp_rule *r;
		char name[96], mode[16];
		int ret;
		size_t m;

		snprintf(name, sizeof(name), "mptcp.%.64s", key);
		if (c->n == MPTCP_PATTERNS_MAX)
			return jsonconf_bad(err, errlen, "mptcp: at most %d entries", MPTCP_PATTERNS_MAX);
		r = &c->r[c->n];
		if (strlen(key) >= sizeof(r->pattern) || !agentcfg_glob_valid(key))
			return jsonconf_bad(err, errlen, "%s: bad glob or interface name: `%.64s'", name, key);
		snprintf(r->pattern, sizeof(r->pattern), "%s", key);
		ret = jsonconf_string(val, name, mode, sizeof(mode), false, 32, err, errlen);
		if (ret < 0)
			return ret;
		for (m = 0; m < 4 && strcmp(mode, mode_names[m]); m++)
			;
		if (m == 4)
			return jsonconf_bad(err, errlen, "%s: must be \"subflow\", \"fullmesh\", \"backup\" or \"off\", "
					    "got `%s'", name, mode);
		r->mode = (enum mptcp_mode)m;
		c->n++;
	}
	return 0;
}

enum mptcp_mode mptcp_cfg_mode(const struct mptcp_cfg *c, const char *ifname)
{
	for (size_t i = 0; i < c->n; i++)
		if (fnmatch(c->r[i].pattern, ifname, 0) == 0)
			return c->r[i].mode;
	return MPTCP_OFF;
}

