"""certis_scraper: a complete, current SQLite copy of the CSA-IoT Matter certified products."""
