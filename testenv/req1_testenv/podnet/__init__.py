"""The test bed's pod network: namespaces and veth links (:mod:`fabric`), Service routing and
cluster DNS (:mod:`agent`). See docs/testing.md, "The test bed network"."""

from req1_testenv.podnet.addressing import FabricConfig, resolv_conf
from req1_testenv.podnet.fabric import Fabric, NodeNet, PodNet
from req1_testenv.podnet.netns import FabricError

__all__ = ["Fabric", "FabricConfig", "FabricError", "NodeNet", "PodNet", "resolv_conf"]
