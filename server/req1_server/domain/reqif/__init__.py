"""ReqIF 1.2 exchange: parsing hostile input safely and writing documents other tools read."""

from req1_server.domain.reqif.model import ReqifError

__all__ = ["ReqifError"]
