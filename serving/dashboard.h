/* dashboard.h -- the live dashboard page served at "/", embedded in the binary */
#ifndef SERVING_DASHBOARD_H
#define SERVING_DASHBOARD_H

#include <stddef.h>

/* The page (HTML with its script and styles inline, no CDN), and its length.
 * Static storage; never freed. */
extern const char dashboard_html[];
size_t dashboard_html_len(void);

#endif
