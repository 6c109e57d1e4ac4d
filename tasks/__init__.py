"""Luigi tasks for decruft: ``luigi --module tasks CleanPartition --date YYYY-MM-DD``."""
from luigi.tools.range import RangeDaily  # noqa: F401  (so ``--module tasks RangeDaily`` resolves)

from .clean import CleanFile, CleanPartition, CleanShard, LearnShardSites, LearnSiteProfiles, RawPartitionReady
from .config import decruft

__all__ = ["CleanFile", "CleanPartition", "CleanShard", "LearnShardSites", "LearnSiteProfiles", "RangeDaily", "RawPartitionReady", "decruft"]
