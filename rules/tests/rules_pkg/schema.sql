schema v1
