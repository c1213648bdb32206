"""The public roster (公示): what a village notice board shows, and the reports it draws."""
