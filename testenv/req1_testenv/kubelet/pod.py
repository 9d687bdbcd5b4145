"""One pod on a process node: sandbox, volumes, init containers, containers, status, deletion.

The worker owns the pod from the moment it is bound to this node until its object is gone. Status is
what is observed (processes, probe verdicts, exit codes), written with a merge patch whenever it
changes. Deletion is graceful: SIGTERM, the grace period, SIGKILL, then the final delete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from typing import TYPE_CHECKING, Any

from req1_testenv.kubelet import images, podspec
from req1_testenv.kubelet.api import ApiError
from req1_testenv.kubelet.container import Container, LaunchPlan, now
from req1_testenv.kubelet.volumes import PodVolumes

if TYPE_CHECKING:
    from req1_testenv.kubelet.agent import NodeAgent

log = logging.getLogger("req1.kubelet.pod")

CONFIG_RESYNC_SECONDS = 5.0


def pod_key(pod: dict[str, Any]) -> str:
    m = pod["metadata"]
    return f"{m['namespace']}/{m['name']}/{m['uid']}"


def pod_dir_name(pod: dict[str, Any]) -> str:
    m = pod["metadata"]
    return f"{m['namespace']}_{m['name']}_{m['uid']}"


class PodWorker:
    def __init__(self, agent: NodeAgent, pod: dict[str, Any]) -> None:
        self.agent = agent
        self.pod = pod
        self.key = pod_key(pod)
        self.meta = pod["metadata"]
        self.namespace: str = self.meta["namespace"]
        self.name: str = self.meta["name"]
        self.dir = agent.pods_dir / pod_dir_name(pod)
        self.pod_ip = ""
        self.netns = ""
        self.containers: dict[str, Container] = {}
        self.init_containers: dict[str, Container] = {}
        self.initialized = False
        self.phase = "Pending"
        self.message = ""
        self.reason = ""
        self.sources = podspec.Sources()
        self.volumes = PodVolumes(agent.api, pod, self.dir)
        self._dirty = asyncio.Event()
        self._deleting = asyncio.Event()
        self._last_status: dict[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._status_task: asyncio.Task[None] | None = None
        self._previous = {c["name"]: c.get("restartCount", 0)
                          for c in (pod.get("status") or {}).get("containerStatuses", [])}

    # -- entry points from the agent

    def start(self) -> None:
        self._status_task = asyncio.create_task(self._status_loop(), name=f"status {self.key}")
        self._task = asyncio.create_task(self._run(), name=f"pod {self.key}")

    def update(self, pod: dict[str, Any]) -> None:
        self.pod = pod
        self.volumes.pod = pod
        if pod["metadata"].get("deletionTimestamp"):
            self._deleting.set()

    def changed(self) -> None:
        self._dirty.set()

    async def event(self, kind: str, reason: str, message: str) -> None:
        await self.agent.event(self.pod, kind, reason, message)

    # -- the pod's life

    async def _run(self) -> None:
        try:
            if not await self._images_known():
                await self._deleting.wait()
            else:
                await self._create_sandbox()
                run = asyncio.create_task(self._run_containers())
                deleting = asyncio.create_task(self._deleting.wait())
                await asyncio.wait({run, deleting}, return_when=asyncio.FIRST_COMPLETED)
                if not self._deleting.is_set():
                    await self._deleting.wait()  # a finished pod stays until it is deleted
                run.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run
            await self._terminate()
        except Exception:
            log.exception("pod %s failed in the node agent", self.key)
            raise

    async def _images_known(self) -> bool:
        unknown = [c["image"] for c in self._all_specs() if images.resolve(c["image"]) is None]
        if not unknown:
            return True
        message = (f"image {unknown[0]!r} has no stand-in on this test bed; add it to "
                   "testenv/req1_testenv/kubelet/images.py or use a node with a container runtime")
        self.reason, self.message = "ErrImagePull", message
        for spec in self._all_specs():
            c = self._container(spec, init=spec in self.pod["spec"].get("initContainers", []))
            if spec["image"] in unknown:
                c.state = {"waiting": {"reason": "ErrImagePull", "message": message}}
        await self.event("Warning", "Failed", f"Failed to pull image {unknown[0]!r}: {message}")
        self.changed()
        return False

    def _all_specs(self) -> list[dict[str, Any]]:
        return [*self.pod["spec"].get("initContainers", []), *self.pod["spec"]["containers"]]

    async def _create_sandbox(self) -> None:
        net = await asyncio.to_thread(self.agent.fabric.add_pod, self.agent.node, self.key)
        self.pod_ip, self.netns = net.ip, net.netns
        self.changed()
        while True:
            try:
                await self._fetch_sources()
                await self.volumes.prepare(self.sources)
                return
            except (podspec.ConfigError, ApiError) as exc:
                self.reason, self.message = "ContainerCreating", str(exc)
                await self.event("Warning", "FailedMount", f"MountVolume.SetUp failed: {exc}")
                self.changed()
                await asyncio.sleep(2)

    async def _fetch_sources(self) -> None:
        secrets, configmaps = podspec.referenced_names(self.pod)
        base = f"/api/v1/namespaces/{self.namespace}"
        for name in secrets:
            obj = await self.agent.api.get_or_none(f"{base}/secrets/{name}")
            self.sources.secrets[name] = podspec.decode_secret(obj) if obj else None
        for name in configmaps:
            obj = await self.agent.api.get_or_none(f"{base}/configmaps/{name}")
            self.sources.configmaps[name] = (
                {**(obj.get("data") or {})} if obj else None
            )

    async def _run_containers(self) -> None:
        refresher = asyncio.create_task(self._resync_config())
        try:
            policy = self.pod["spec"].get("restartPolicy", "Always")
            for spec in self.pod["spec"].get("initContainers", []):
                c = self._container(spec, init=True)
                init_policy = "OnFailure" if policy == "Always" else policy
                c.restart_policy = init_policy
                c.start()
                await c.done.wait()
                if c.exit_code != 0:
                    self.phase, self.reason = "Failed", "InitContainerFailed"
                    self.changed()
                    return
            self.initialized = True
            self.reason = self.message = ""
            for spec in self.pod["spec"]["containers"]:
                self._container(spec, init=False).start()
            self.phase = "Running"
            self.changed()
            await asyncio.gather(*(c.done.wait() for c in self.containers.values()))
            codes = [c.exit_code for c in self.containers.values()]
            self.phase = "Succeeded" if all(code == 0 for code in codes) else "Failed"
            self.changed()
        finally:
            refresher.cancel()

    def _container(self, spec: dict[str, Any], *, init: bool) -> Container:
        table = self.init_containers if init else self.containers
        if spec["name"] in table:
            return table[spec["name"]]
        image = images.resolve(spec["image"]) or images.TOOLBOX
        c = Container(
            spec, image, self.dir / spec["name"], self.netns, self.pod_ip,
            probe_netns=self.agent.fabric.node(self.agent.node).netns,
            init=init,
            restart_policy=self.pod["spec"].get("restartPolicy", "Always"),
            grace=self._grace,
            plan=lambda: self._plan(spec, image),
            changed=self.changed,
            event=self.event,
            restart_count=self._previous.get(spec["name"], 0),
        )
        table[spec["name"]] = c
        return c

    async def _plan(self, spec: dict[str, Any], image: images.ImageStandIn) -> LaunchPlan:
        await self._fetch_sources()
        pod = {**self.pod, "status": {**(self.pod.get("status") or {}), **self._addresses()}}
        env = podspec.container_env(pod, spec, image, self.sources, self.agent.service_env)
        uid, gid, groups = podspec.run_as(pod, spec, image)
        sc = spec.get("securityContext") or {}
        return LaunchPlan(
            argv=podspec.command_line(spec, image, env),
            env=env, uid=uid, gid=gid, groups=groups,
            mounts=self.volumes.mounts(spec),
            etc_files=self._etc_files(),
            hostname=self.pod["spec"].get("hostname") or self.name,
            read_only_root=bool(sc.get("readOnlyRootFilesystem")),
        )

    def _etc_files(self) -> dict[str, str]:
        spec = self.pod["spec"]
        hostname = spec.get("hostname") or self.name
        names = [hostname]
        if spec.get("subdomain"):
            names.insert(0, f"{hostname}.{spec['subdomain']}.{self.namespace}.svc.cluster.local")
        dns = self.agent.fabric.config.dns_ip
        return {
            "/etc/resolv.conf": (f"search {self.namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
                                 f"nameserver {dns}\noptions ndots:5\n"),
            "/etc/hosts": f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n{self.pod_ip}\t{' '.join(names)}\n",
            "/etc/hostname": hostname + "\n",
        }

    async def _resync_config(self) -> None:
        """Deliver Secret/ConfigMap changes to mounted volumes, like the kubelet's periodic sync."""
        while True:
            await asyncio.sleep(CONFIG_RESYNC_SECONDS)
            with contextlib.suppress(ApiError, OSError, podspec.ConfigError):
                await self._fetch_sources()
                await self.volumes.refresh(self.sources)

    def _grace(self) -> float:
        return float(self.pod["spec"].get("terminationGracePeriodSeconds", 30))

    async def _terminate(self) -> None:
        grace = float(self.pod["metadata"].get("deletionGracePeriodSeconds", self._grace()))
        running = [c for c in [*self.containers.values(), *self.init_containers.values()]
                   if c.proc is not None and c.proc.returncode is None]
        if running:
            await self.event("Normal", "Killing", f"Stopping container {', '.join(c.name for c in running)}")
        await asyncio.gather(*(c.stop(grace) for c in [*self.containers.values(), *self.init_containers.values()]))
        self.changed()
        await self._flush_status()
        if self._status_task is not None:
            self._status_task.cancel()
        with contextlib.suppress(ApiError):
            await self.agent.api.delete(
                f"/api/v1/namespaces/{self.namespace}/pods/{self.name}",
                {"gracePeriodSeconds": 0, "preconditions": {"uid": self.meta["uid"]}},
            )
        await asyncio.to_thread(self.agent.fabric.remove_pod, self.agent.node, self.key)
        await asyncio.to_thread(self._remove_dir)

    def _remove_dir(self) -> None:
        """Keep the logs (``logs --previous`` of a deleted pod is still useful); drop roots and volumes."""
        for child in self.dir.glob("*/root-*"):
            shutil.rmtree(child, ignore_errors=True)
        shutil.rmtree(self.dir / "volumes", ignore_errors=True)

    # -- status

    def _addresses(self) -> dict[str, Any]:
        host = self.agent.node_ip
        out: dict[str, Any] = {"hostIP": host, "hostIPs": [{"ip": host}]}
        if self.pod_ip:
            out |= {"podIP": self.pod_ip, "podIPs": [{"ip": self.pod_ip}]}
        return out

    def compute_status(self) -> dict[str, Any]:
        current = self.pod.get("status") or {}
        conditions = {c["type"]: c for c in current.get("conditions", [])}

        def cond(kind: str, ok: bool, reason: str = "") -> None:
            status = "True" if ok else "False"
            old = conditions.get(kind)
            if old and old.get("status") == status:
                return
            conditions[kind] = {"type": kind, "status": status, "lastTransitionTime": now(),
                                "lastProbeTime": None, **({"reason": reason} if reason else {})}

        ready = bool(self.containers) and all(c.ready for c in self.containers.values())
        ready = ready and self.phase == "Running"
        cond("PodReadyToStartContainers", bool(self.netns))
        cond("Initialized", self.initialized, "" if self.initialized else "ContainersNotInitialized")
        cond("ContainersReady", ready, "" if ready else "ContainersNotReady")
        cond("Ready", ready, "" if ready else "ContainersNotReady")
        status: dict[str, Any] = {
            "phase": self.phase,
            "conditions": list(conditions.values()),
            "startTime": current.get("startTime") or now(),
            **self._addresses(),
            "containerStatuses": [self._status_of(s, self.containers) for s in self.pod["spec"]["containers"]],
        }
        inits = self.pod["spec"].get("initContainers", [])
        if inits:
            status["initContainerStatuses"] = [self._status_of(s, self.init_containers) for s in inits]
        if self.reason:
            status["reason"], status["message"] = self.reason, self.message
        elif current.get("reason"):
            status["reason"] = status["message"] = None
        return status

    def _status_of(self, spec: dict[str, Any], table: dict[str, Container]) -> dict[str, Any]:
        if spec["name"] in table:
            return table[spec["name"]].status()
        return {"name": spec["name"], "image": spec["image"], "imageID": "", "ready": False,
                "restartCount": self._previous.get(spec["name"], 0), "started": False,
                "state": {"waiting": {"reason": "PodInitializing" if table is self.containers
                                      else "ContainerCreating"}}}

    async def _status_loop(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(0.05)  # coalesce bursts of changes into one write
            self._dirty.clear()
            await self._flush_status()

    async def _flush_status(self) -> None:
        status = self.compute_status()
        if status == self._last_status:
            return
        try:
            patched = await self.agent.api.merge_patch(
                f"/api/v1/namespaces/{self.namespace}/pods/{self.name}/status", {"status": status})
            self._last_status = status
            self.pod = {**self.pod, "status": patched.get("status", status)}
        except ApiError as exc:
            if exc.status != 404:
                log.warning("status of %s not written: %s", self.key, exc)
                self._dirty.set()
                await asyncio.sleep(1)

    async def wait(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
