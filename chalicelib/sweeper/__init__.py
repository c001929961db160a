"""The in-flight sweeper: runs, inbound deliveries and credential rotations that stopped moving."""
