#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A minimal CRI v1 client for sigward's integration tests.

It drives containerd's CRI plugin the way kubelet does (RunPodSandbox, then
CreateContainer with the sandbox's config repeated, StartContainer, Stop and
Remove), over the gRPC socket given with --sock. The API subset it uses is
declared in api.proto next to this file (public k8s.io/cri-api v1 names and
field numbers); the Python modules are generated at run time with
`python3 -m grpc_tools.protoc` into --gen DIR, or into a temporary directory
that is removed on exit. Needs Debian's python3-grpcio and python3-grpc-tools.

Pods use the node's network, PID and IPC namespaces' modes as kubelet sets them
for a hostNetwork pod (network NODE), so no CNI plugin is needed.

Output is line-oriented for shell scripts. A failed call prints
`error: <grpc status code>: <message>` on stderr and exits 1; the message is the
runtime's, e.g. containerd's "failed to create containerd task: ... OCI runtime
create failed: sigward: denied container ...: unknown". Usage errors exit 2.
"""

import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "api.proto")

pb = None      # api_pb2
pbg = None     # api_pb2_grpc
grpc = None


def generate(gen_dir):
    """Generate api_pb2*.py into gen_dir (unless they are newer than the proto) and import them."""
    global pb, pbg, grpc
    if gen_dir is None:
        gen_dir = tempfile.mkdtemp(prefix="sw-cri-gen.")
        atexit.register(shutil.rmtree, gen_dir, True)
    os.makedirs(gen_dir, exist_ok=True)
    out = os.path.join(gen_dir, "api_pb2_grpc.py")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(PROTO):
        # Into a scratch directory first, then renamed: a concurrent client never
        # imports a half-written module.
        scratch = tempfile.mkdtemp(prefix=".gen.", dir=gen_dir)
        try:
            subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + HERE,
                            "--python_out=" + scratch, "--grpc_python_out=" + scratch, PROTO],
                           check=True)
            for name in ("api_pb2.py", "api_pb2_grpc.py"):
                os.replace(os.path.join(scratch, name), os.path.join(gen_dir, name))
        finally:
            shutil.rmtree(scratch, True)
    sys.path.insert(0, gen_dir)
    import grpc as _grpc
    import api_pb2
    import api_pb2_grpc
    grpc, pb, pbg = _grpc, api_pb2, api_pb2_grpc


class Client:
    def __init__(self, sock, timeout):
        self.timeout = timeout
        self.channel = grpc.insecure_channel("unix://" + sock)
        self.rt = pbg.RuntimeServiceStub(self.channel)
        self.img = pbg.ImageServiceStub(self.channel)

    def close(self):
        self.channel.close()

    # ---- what kubelet sends ----

    @staticmethod
    def sandbox_config(name, uid, namespace, log_dir):
        """PodSandboxConfig of a hostNetwork pod; CreateContainer repeats it."""
        return pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace=namespace, attempt=0),
            log_directory=log_dir,
            labels={"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": namespace,
                    "io.kubernetes.pod.uid": uid},
            linux=pb.LinuxPodSandboxConfig(
                security_context=pb.LinuxSandboxSecurityContext(
                    namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER,
                                                         ipc=pb.POD))))

    def version(self, timeout=None):
        return self.rt.Version(pb.VersionRequest(version="v1"), timeout=timeout or self.timeout)

    def run_pod(self, cfg):
        return self.rt.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg),
                                     timeout=self.timeout).pod_sandbox_id

    def stop_pod(self, pod_id):
        self.rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod_id), timeout=self.timeout)

    def remove_pod(self, pod_id):
        self.rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id), timeout=self.timeout)

    def list_pods(self):
        return self.rt.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=self.timeout).items

    def create(self, pod_id, pod_cfg, name, image, command, args, log_path):
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name, attempt=0),
            image=pb.ImageSpec(image=image),
            command=command, args=args, log_path=log_path,
            labels={"io.kubernetes.container.name": name},
            linux=pb.LinuxContainerConfig(
                security_context=pb.LinuxContainerSecurityContext(
                    namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER,
                                                         ipc=pb.POD))))
        req = pb.CreateContainerRequest(pod_sandbox_id=pod_id, config=cfg, sandbox_config=pod_cfg)
        return self.rt.CreateContainer(req, timeout=self.timeout).container_id

    def start(self, cid, timeout=None):
        self.rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=timeout or self.timeout)

    def stop(self, cid, grace=0):
        self.rt.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=grace), timeout=self.timeout)

    def remove(self, cid):
        self.rt.RemoveContainer(pb.RemoveContainerRequest(container_id=cid), timeout=self.timeout)

    def list_containers(self, pod_id="", cid="", timeout=None):
        f = pb.ContainerFilter(id=cid, pod_sandbox_id=pod_id)
        return self.rt.ListContainers(pb.ListContainersRequest(filter=f),
                                      timeout=timeout or self.timeout).containers

    def status(self, cid):
        return self.rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid),
                                       timeout=self.timeout).status

    def image_status(self, ref):
        return self.img.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image=ref)),
                                    timeout=self.timeout).image


def state_name(v):
    return pb.ContainerState.Name(v)


def status_line(s):
    return "%s %s exit=%d reason=%s image_ref=%s log=%s message=%s" % (
        s.id, state_name(s.state), s.exit_code, s.reason or "-", s.image_ref or "-",
        s.log_path or "-", (s.message or "-").replace("\n", " "))


def rpc_error(e):
    return "%s: %s" % (e.code(), e.details())


# ---- commands ----

def cmd_version(c, a):
    v = c.version()
    print(v.runtime_name, v.runtime_version, v.runtime_api_version)


def cmd_runp(c, a):
    print(c.run_pod(Client.sandbox_config(a.name, a.uid or a.name + "-uid", a.namespace, a.log_dir)))


def cmd_create(c, a):
    pod_cfg = Client.sandbox_config(a.pod_name, a.pod_uid or a.pod_name + "-uid", a.namespace, a.log_dir)
    print(c.create(a.pod, pod_cfg, a.name, a.image, a.command, [], a.name + ".log"))


def cmd_start(c, a):
    c.start(a.id)


def cmd_stop(c, a):
    c.stop(a.id, a.grace)


def cmd_rm(c, a):
    c.remove(a.id)


def cmd_stopp(c, a):
    c.stop_pod(a.id)


def cmd_rmp(c, a):
    c.remove_pod(a.id)


def cmd_ps(c, a):
    for ct in c.list_containers(pod_id=a.pod or "", cid=a.id or ""):
        print(ct.id, state_name(ct.state), ct.metadata.name, ct.image.image or "-", ct.image_ref or "-")


def cmd_pods(c, a):
    for p in c.list_pods():
        print(p.id, pb.PodSandboxState.Name(p.state), p.metadata.name)


def cmd_inspect(c, a):
    print(status_line(c.status(a.id)))


def cmd_wait(c, a):
    """Poll ContainerStatus until the container is in STATE (bounded by --within)."""
    want = pb.ContainerState.Value(a.state)
    deadline = time.monotonic() + a.within
    while True:
        s = c.status(a.id)
        if s.state == want:
            print(status_line(s))
            return 0
        if time.monotonic() >= deadline:
            print("error: %s still %s after %gs: %s" % (a.id, state_name(s.state), a.within, status_line(s)),
                  file=sys.stderr)
            return 1
        time.sleep(0.1)


def cmd_image(c, a):
    """Wait (bounded) until the CRI plugin knows the image, print its id and names."""
    deadline = time.monotonic() + a.within
    while True:
        im = c.image_status(a.ref)
        if im.id:
            print(im.id, ",".join(im.repo_tags) or "-", ",".join(im.repo_digests) or "-")
            return 0
        if time.monotonic() >= deadline:
            print("error: the CRI plugin does not know image %s after %gs" % (a.ref, a.within), file=sys.stderr)
            return 1
        time.sleep(0.1)


def cmd_starts(c, a):
    """Start the containers at once, one thread each, while another connection
    keeps asking Version and ListContainers, each answer bounded by --probe-timeout.

    Prints `started ID` or `refused ID <error>` per container, then
    `probes N during-starts M max-ms X failed F`. Exits 0 when every probe was
    answered in time and at least one ran while starts were in flight; the
    caller judges which containers had to start."""
    results = {}
    lock = threading.Lock()

    def one(cid):
        try:
            c.start(cid, timeout=a.start_timeout)
            r = "started %s" % cid
        except grpc.RpcError as e:
            r = "refused %s %s" % (cid, rpc_error(e).replace("\n", " "))
        with lock:
            results[cid] = r

    probe = Client(a.sock, a.probe_timeout)
    threads = [threading.Thread(target=one, args=(cid,)) for cid in a.ids]
    barrier_start = time.monotonic()
    for t in threads:
        t.start()
    probes = during = failed = 0
    worst = 0.0
    errors = []
    while True:
        pending = any(t.is_alive() for t in threads)
        t0 = time.monotonic()
        try:
            probe.version(timeout=a.probe_timeout)
            probe.list_containers(timeout=a.probe_timeout)
        except grpc.RpcError as e:
            failed += 1
            errors.append(rpc_error(e))
        dt = time.monotonic() - t0
        worst = max(worst, dt)
        probes += 1
        if pending:
            during += 1
        if not pending:
            break
        if time.monotonic() - barrier_start > a.start_timeout + a.probe_timeout:
            break
        time.sleep(0.02)
    for t in threads:
        t.join(a.start_timeout)
    probe.close()
    for cid in a.ids:
        print(results.get(cid, "refused %s no answer within %gs" % (cid, a.start_timeout)))
    print("probes %d during-starts %d max-ms %d failed %d elapsed-ms %d" % (
        probes, during, worst * 1000, failed, (time.monotonic() - barrier_start) * 1000))
    for e in errors[:5]:
        print("error: probe: %s" % e, file=sys.stderr)
    return 0 if failed == 0 and during > 0 else 1


def cmd_churn(c, a):
    """Create, start and remove containers in --threads threads until --starts
    StartContainer calls were made, spread over the pods, every --unlisted-every
    th one with the unlisted image. Prints one line per start:
    `started|refused LISTED|UNLISTED ID ms [error]`, then `churn starts N
    elapsed-ms M`. Exits 0 when every call other than StartContainer worked."""
    lock = threading.Lock()
    state = {"next": 0, "errors": [], "done": 0}
    t0 = time.monotonic()

    def worker(w):
        cl = Client(a.sock, a.timeout)
        while True:
            with lock:
                i = state["next"]
                if i >= a.starts:
                    break
                state["next"] += 1
            pod, pod_name = a.pods[i % len(a.pods)].split("=", 1)
            unlisted = a.unlisted_every > 0 and i % a.unlisted_every == a.unlisted_every - 1
            image = a.unlisted if unlisted else a.listed
            pod_cfg = Client.sandbox_config(pod_name, pod_name + "-uid", "sigward-test", a.log_dir)
            cid = None
            for attempt in range(3):
                # The CRI plugin may pick a reference of the image that a
                # writer beside us removes in the meantime: try again.
                try:
                    cid = cl.create(pod, pod_cfg, "churn-%d-%d" % (i, attempt), image, ["/bin/true"], [],
                                    "churn-%d.log" % i)
                    break
                except grpc.RpcError as e:
                    last = rpc_error(e)
                    time.sleep(0.2)
            if cid is None:
                with lock:
                    state["errors"].append("create %d: %s" % (i, last))
                continue
            s0 = time.monotonic()
            try:
                cl.start(cid)
                r = "started"
                err = ""
            except grpc.RpcError as e:
                r = "refused"
                err = " " + rpc_error(e).replace("\n", " ")
            ms = (time.monotonic() - s0) * 1000
            with lock:
                # as it happens: a caller's timeout still leaves every result
                print("%s %s %s %d%s" % (r, "UNLISTED" if unlisted else "LISTED", cid, ms, err), flush=True)
                state["done"] += 1
            try:
                try:
                    cl.remove(cid)       # exited (/bin/true) or never started
                except grpc.RpcError:
                    cl.stop(cid)
                    cl.remove(cid)
            except grpc.RpcError as e:
                with lock:
                    state["errors"].append("remove %s: %s" % (cid, rpc_error(e)))
        cl.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("churn starts %d elapsed-ms %d" % (state["done"], (time.monotonic() - t0) * 1000))
    for e in state["errors"][:5]:
        print("error: %s" % e, file=sys.stderr)
    return 1 if state["errors"] else 0


def main():
    p = argparse.ArgumentParser(description="minimal CRI v1 client for sigward's tests")
    p.add_argument("--sock", help="containerd's gRPC socket (the CRI endpoint)")
    p.add_argument("--gen", help="directory for the generated modules (default: a temporary one)")
    p.add_argument("--timeout", type=float, default=60.0, help="deadline of each call, seconds")
    sub = p.add_subparsers(dest="cmd", required=True)

    sub.add_parser("gen", help="only generate the modules into --gen")
    sub.add_parser("version")
    s = sub.add_parser("runp", help="RunPodSandbox (host network); prints the sandbox id")
    s.add_argument("name")
    s.add_argument("--uid")
    s.add_argument("--namespace", default="sigward-test")
    s.add_argument("--log-dir", required=True)
    s = sub.add_parser("create", help="CreateContainer; prints the container id")
    s.add_argument("pod")
    s.add_argument("pod_name")
    s.add_argument("name")
    s.add_argument("image", help="a reference (tag) or an image id sha256:...; the command follows `--`")
    s.add_argument("--pod-uid")
    s.add_argument("--namespace", default="sigward-test")
    s.add_argument("--log-dir", required=True, help="the sandbox's log directory, as given to runp")
    for name in ("start", "rm", "stopp", "rmp", "inspect"):
        sub.add_parser(name).add_argument("id")
    s = sub.add_parser("stop")
    s.add_argument("id")
    s.add_argument("--grace", type=int, default=0)
    s = sub.add_parser("ps", help="ListContainers: id state name image image_ref")
    s.add_argument("--pod")
    s.add_argument("--id")
    sub.add_parser("pods", help="ListPodSandbox: id state name")
    s = sub.add_parser("wait", help="wait until a container is in a state")
    s.add_argument("id")
    s.add_argument("state", choices=["CONTAINER_CREATED", "CONTAINER_RUNNING", "CONTAINER_EXITED"])
    s.add_argument("--within", type=float, default=20.0)
    s = sub.add_parser("image", help="ImageStatus: id tags digests")
    s.add_argument("ref")
    s.add_argument("--within", type=float, default=10.0)
    s = sub.add_parser("starts", help="start containers concurrently while probing the runtime")
    s.add_argument("ids", nargs="+")
    s.add_argument("--probe-timeout", type=float, default=5.0)
    s.add_argument("--start-timeout", type=float, default=60.0)
    s = sub.add_parser("churn", help="create, start and remove containers in threads (POD=NAME for each pod)")
    s.add_argument("pods", nargs="+")
    s.add_argument("--listed", required=True)
    s.add_argument("--unlisted", required=True)
    s.add_argument("--unlisted-every", type=int, default=10)
    s.add_argument("--starts", type=int, default=500)
    s.add_argument("--threads", type=int, default=4)
    s.add_argument("--log-dir", required=True)
    # The container's command is everything after "--" (argparse cannot take it
    # after options of a subcommand).
    argv = sys.argv[1:]
    command = []
    if "--" in argv:
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1:]
    a = p.parse_args(argv)
    a.command = command

    generate(a.gen)
    if a.cmd == "gen":
        return 0
    if not a.sock:
        p.error("--sock is required")
    c = Client(a.sock, a.timeout)
    try:
        rc = globals()["cmd_" + a.cmd](c, a)
    except grpc.RpcError as e:
        print("error: " + rpc_error(e), file=sys.stderr)
        return 1
    finally:
        c.close()
    return rc or 0


if __name__ == "__main__":
    sys.exit(main())
