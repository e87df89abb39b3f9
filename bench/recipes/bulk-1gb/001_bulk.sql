-- About 1 GB of heap: a snapshot size where whole-file copies cost seconds and copy-on-write should not.
create table bulk (id bigint primary key, payload text not null);
insert into bulk select g, repeat(md5(g::text), 24) from generate_series(1, 1100000) g;
