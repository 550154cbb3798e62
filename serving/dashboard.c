/* dashboard.c -- embeds serving/dashboard.html into lambda-serving with .incbin */
#include <string.h>

#include "serving/dashboard.h"

/* The assembler includes the page at build time (the Makefile runs from the
 * repository root and lists the page as a dependency of this object). */
__asm__(".section .rodata\n"
        ".global dashboard_html\n"
        ".type dashboard_html, @object\n"
        "dashboard_html:\n"
        ".incbin \"serving/dashboard.html\"\n"
        ".byte 0\n"
        ".previous\n");

size_t
dashboard_html_len(void)
{
    return strlen(dashboard_html);
}
