/* SPDX-License-Identifier: Apache-2.0 */
/* wiring: containerd's config.toml and Docker's daemon.json as the audit reads them. */
#include "testutil.h"

#include <string.h>

#include "wiring.h"

static void ctrd(const char *text, sw_containerd_wiring *w)
{
	sw_wiring_containerd(text, strlen(text), w);
}

static void test_containerd(void **state)
{
	(void)state;
	sw_containerd_wiring w;
	/* The shipped snippet (version 2, the CRI plugin's runc), with a [grpc] table. */
	ctrd("version = 2\n"
	     "root = \"/tmp/c/root\"\n"
	     "state = '/tmp/c/state'\n"
	     "[grpc]\n"
	     "  address = \"/tmp/c/sock\"\n"
	     "  uid = 0\n"
	     "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
	     "  SystemdCgroup = true\n"
	     "  BinaryName = \"/usr/bin/sigward-runc\"\n", &w);
	assert_true(w.wired);
	assert_string_equal(w.binary, "/usr/bin/sigward-runc");
	assert_int_equal(w.binary_line, 9);
	assert_string_equal(w.address, "/tmp/c/sock");
	assert_string_equal(w.root, "/tmp/c/root");
	assert_string_equal(w.state, "/tmp/c/state");
	/* root and state count only at the top level, not inside a table. */
	ctrd("[plugins.\"io.containerd.snapshotter.v1.overlayfs\"]\n  root_path = \"/x\"\n  root = \"/x\"\n"
	     "[x]\nstate = \"/y\"\n", &w);
	assert_string_equal(w.root, "");
	assert_string_equal(w.state, "");
	assert_string_equal(w.sandbox_image, "");

	/* The CRI plugin's pause image, version 2 and version 1; elsewhere it is not. */
	ctrd("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.9\"\n", &w);
	assert_string_equal(w.sandbox_image, "registry.k8s.io/pause:3.9");
	assert_int_equal(w.sandbox_line, 3);
	ctrd("[plugins.cri]\nsandbox_image = 'localhost/pause:1'\n", &w);
	assert_string_equal(w.sandbox_image, "localhost/pause:1");
	ctrd("sandbox_image = \"a\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  sandbox_image = \"b\"\n"
	     "[plugins.\"io.containerd.grpc.v1.cri\"]\n#  sandbox_image = \"c\"\n", &w);
	assert_string_equal(w.sandbox_image, "");
	assert_int_equal(w.sandbox_line, 0);

	/* Commented out, or naming another runtime: not wired. An address outside
	 * [grpc] (the ttrpc or debug socket) is not the client socket. */
	ctrd("# BinaryName = \"/usr/bin/sigward-runc\"\n"
	     "  #BinaryName = \"/usr/bin/sigward-runc\"\n"
	     "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
	     "  BinaryName = \"/usr/sbin/runc\"\n"
	     "[debug]\n  address = \"/run/containerd/debug.sock\"\n"
	     "[ttrpc]\n  address = \"\"\n", &w);
	assert_false(w.wired);
	assert_string_equal(w.binary, "");
	assert_string_equal(w.address, "");

	/* sigward-runc in a directory name is not sigward-runc. */
	ctrd("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
	     "BinaryName = \"/opt/sigward-runc/bin/runc\"\n", &w);
	assert_false(w.wired);
	assert_false(w.runtime_class);

	/* Literal strings, a quoted key, CRLF, spaces in the table header, version 1's
	 * table names; the default runtime (runc) is the one that counts, even
	 * after a RuntimeClass handler that also runs sigward-runc. */
	ctrd("[ grpc ]\r\n"
	     "\"address\" = '/run/c.sock'   \r\n"
	     "[plugins.cri.containerd.runtimes.kata.options]\r\n"
	     "BinaryName='/usr/local/bin/sigward-runc'\r\n"
	     "[plugins.cri.containerd.runtimes.runc.options]\r\n"
	     "BinaryName = \"/usr/bin/sigward-runc\"\r\n", &w);
	assert_true(w.wired);
	assert_false(w.runtime_class);
	assert_string_equal(w.runtime, "runc");
	assert_string_equal(w.binary, "/usr/bin/sigward-runc");
	assert_int_equal(w.binary_line, 6);
	assert_string_equal(w.address, "/run/c.sock");

	/* Not strings, unterminated strings, no '=', an empty file: nothing. */
	ctrd("BinaryName = 42\nBinaryName = \"/usr/bin/sigward-runc\nBinaryName \"/usr/bin/sigward-runc\"\n[grpc\n", &w);
	assert_false(w.wired);
	ctrd("", &w);
	assert_false(w.wired);
	/* A file without a final newline still has its last line read. */
	ctrd("[grpc]\naddress = \"/s\"", &w);
	assert_string_equal(w.address, "/s");
}

/* "Wired" is what containerd runs by default: default_runtime_name ("runc"
 * when not set); a runtime only a RuntimeClass selects is named, not wired. */
static void test_containerd_default_runtime(void **state)
{
	(void)state;
	sw_containerd_wiring w;
	/* Only a RuntimeClass handler runs sigward-runc: pods without that class
	 * start through plain runc. */
	ctrd("version = 2\n"
	     "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
	     "  BinaryName = \"/usr/sbin/runc\"\n"
	     "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.sigward.options]\n"
	     "  BinaryName = \"/usr/bin/sigward-runc\"\n", &w);
	assert_false(w.wired);
	assert_true(w.runtime_class);
	assert_string_equal(w.runtime, "sigward");
	assert_string_equal(w.default_runtime, "runc");
	assert_int_equal(w.binary_line, 5);

	/* The same runtime made the default, before or after its table. */
	ctrd("version = 2\n"
	     "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.sigward.options]\n"
	     "  BinaryName = \"/usr/bin/sigward-runc\"\n"
	     "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
	     "  default_runtime_name = \"sigward\"\n", &w);
	assert_true(w.wired);
	assert_false(w.runtime_class);
	assert_string_equal(w.runtime, "sigward");
	assert_string_equal(w.default_runtime, "sigward");

	/* runc runs sigward-runc but the default is crun: not wired. */
	ctrd("[plugins.'io.containerd.grpc.v1.cri'.containerd]\n"
	     "default_runtime_name = 'crun'\n"
	     "[plugins.'io.containerd.grpc.v1.cri'.containerd.runtimes.runc.options]\n"
	     "BinaryName = '/usr/bin/sigward-runc'\n", &w);
	assert_false(w.wired);
	assert_true(w.runtime_class);
	assert_string_equal(w.runtime, "runc");
	assert_string_equal(w.default_runtime, "crun");

	/* default_runtime_name of another table is not the CRI plugin's. */
	ctrd("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
	     "BinaryName = \"/usr/bin/sigward-runc\"\n"
	     "[x.containerd]\ndefault_runtime_name = \"crun\"\n", &w);
	assert_true(w.wired);
	assert_string_equal(w.default_runtime, "runc");

	/* containerd 2.x's version 3 table. */
	ctrd("version = 3\n"
	     "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n"
	     "  BinaryName = '/usr/bin/sigward-runc'\n", &w);
	assert_true(w.wired);
	assert_string_equal(w.runtime, "runc");

	/* A BinaryName outside a CRI runtime's options configures nothing. */
	ctrd("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
	     "  BinaryName = \"/usr/bin/sigward-runc\"\n"
	     "[plugins.\"io.containerd.runtime.v1.linux\"]\n"
	     "  BinaryName = \"/usr/bin/sigward-runc\"\n", &w);
	assert_false(w.wired);
	assert_false(w.runtime_class);
	assert_string_equal(w.runtime, "");
}

static int docker(const char *text, sw_docker_wiring *w, sw_error *e)
{
	return sw_wiring_docker(text, strlen(text), "daemon.json", w, e);
}

static void test_docker(void **state)
{
	(void)state;
	sw_docker_wiring w;
	sw_error e = { 0 };
	assert_int_equal(docker("{\"runtimes\":{\"sigward\":{\"path\":\"/usr/bin/sigward-runc\"}},"
				"\"default-runtime\":\"sigward\",\"hosts\":[\"tcp://0.0.0.0:2375\",\"unix:///tmp/d/sock\"]}", &w, &e), 0);
	assert_true(w.runtime);
	assert_true(w.is_default);
	assert_string_equal(w.name, "sigward");
	assert_string_equal(w.path, "/usr/bin/sigward-runc");
	assert_string_equal(w.host, "unix:///tmp/d/sock");

	/* Opt-in: the runtime exists, runc stays the default. */
	assert_int_equal(docker("{\"runtimes\":{\"sw\":{\"path\":\"/usr/bin/sigward-runc\",\"runtimeArgs\":[]}}}", &w, &e), 0);
	assert_true(w.runtime);
	assert_false(w.is_default);
	assert_string_equal(w.name, "sw");
	assert_string_equal(w.host, "");

	/* Two sigward-runc runtimes: the default one is reported. */
	assert_int_equal(docker("{\"runtimes\":{\"a\":{\"path\":\"/a/sigward-runc\"},\"b\":{\"path\":\"/b/sigward-runc\"}},"
				"\"default-runtime\":\"a\"}", &w, &e), 0);
	assert_true(w.is_default);
	assert_string_equal(w.name, "a");

	/* Another runtime as default, a non-string path: not wired. */
	assert_int_equal(docker("{\"runtimes\":{\"crun\":{\"path\":\"/usr/bin/crun\"},\"x\":{\"path\":7}},"
				"\"default-runtime\":\"crun\"}", &w, &e), 0);
	assert_false(w.runtime);
	assert_false(w.is_default);

	/* Not JSON, not an object: an error naming the file. */
	assert_true(docker("{\"runtimes\":", &w, &e) < 0);
	assert_non_null(strstr(e.msg, "daemon.json"));
	assert_true(docker("[]", &w, &e) < 0);
	assert_string_equal(e.msg, "daemon.json: not a JSON object");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containerd),
		cmocka_unit_test(test_containerd_default_runtime),
		cmocka_unit_test(test_docker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
