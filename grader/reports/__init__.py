"""What people read: terminal tables, feedback pages, class reports, CSV exports."""
