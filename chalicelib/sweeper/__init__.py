"""The in-flight sweeper: runs and credential rotations that stopped moving."""
