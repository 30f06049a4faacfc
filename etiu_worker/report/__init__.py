"""What the worker tells people: the coordinator report (text and HTML) and the run's output."""
