"""Deploy windows, change freezes, scheduled deployments, the promotion queue and the iCalendar feed (docs/calendar.md)."""
