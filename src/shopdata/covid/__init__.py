"""COVID-19 Singapore dashboard: fetch data and serve the chart."""
