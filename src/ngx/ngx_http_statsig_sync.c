
/*
 * ngx_http_statsig_module: specs and ID-list sync (first version: the
 * specs file is loaded by init_zone; the network sync lands next).
 */


#include "ngx_http_statsig_module.h"


ngx_int_t
ngx_http_statsig_sync_init_worker(ngx_cycle_t *cycle)
{
    return NGX_OK;
}


void
ngx_http_statsig_sync_exit_worker(ngx_cycle_t *cycle)
{
}
