"""One-shot (gradient-based) search: a supernet trained once instead of candidates trained one by one."""

from nasforge.oneshot._base import ONE_SHOT, EpochRecord, OneShot, SupernetData
from nasforge.oneshot._darts import REMEDIES, Darts, free_ops

__all__ = ["ONE_SHOT", "REMEDIES", "Darts", "EpochRecord", "OneShot", "SupernetData", "free_ops"]
