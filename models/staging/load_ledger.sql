{#-
    The load ledger, the one home of the incremental state: one row per file
    per run that read it, moved it or found it gone; a file's newest row is
    what the tables hold of it. What a run reads is decided here, from the
    run's file listing (the source `file_listing`, which the run command
    writes before dbt starts) against every file's newest row: a new path is
    `new` (read whole) or, with the content of a file no longer listed,
    `moved` (not read); a file with the same size and fingerprint is
    unchanged (no row); a longer one whose bytes read before are unchanged
    and ended with a line break is `grown` (the lines after the old ones are
    read); anything else stops the run (`changed`); a known file no longer
    listed is `removed` (its events stay). The columns are in _load_ledger.yml.

    Appended, never rewritten: the run command rebuilds every table after a
    run that did not finish, so nothing a failed run appended is relied on.
-#}
{{ config(materialized='incremental', incremental_strategy='append') }}

with

listing as (
    select
        run_id,
        events_path,
        file_path,
        size_bytes,
        cast(modified_at as timestamp) as modified_at,
        fingerprint,
        line_count,
        last_line_complete,
        prefix_bytes,
        prefix_fingerprint,
        non_blank_lines
    from {{ source('web_events', 'file_listing') }}
),

earlier_rows as (
    {%- if is_incremental() %}
    select * from {{ this }}
    {%- else %}
    -- a full build starts from an empty ledger
    select
        cast(null as string) as run_id,
        cast(null as string) as file_path,
        cast(null as string) as status,
        cast(null as bigint) as size_bytes,
        cast(null as timestamp) as modified_at,
        cast(null as string) as fingerprint,
        cast(null as bigint) as line_count,
        cast(null as boolean) as last_line_complete,
        cast(null as bigint) as first_line,
        cast(null as bigint) as last_line,
        cast(null as bigint) as non_blank_lines,
        cast(null as string) as moved_from,
        cast(null as string) as events_path,
        cast(null as timestamp) as recorded_at
    where false
    {%- endif %}
),

newest as (
    -- every file's newest row
    select * from earlier_rows
    qualify row_number() over (partition by file_path order by run_id desc) = 1
),

moved_away as (
    select
        moved_from as file_path,
        max(run_id) as moved_in_run
    from earlier_rows
    where status = 'moved'
    group by moved_from
),

known as (
    -- the files the tables hold: neither removed nor moved elsewhere since
    select newest.*
    from newest
    left join moved_away
        on newest.file_path = moved_away.file_path
    where
        newest.status != 'removed'
        and coalesce(moved_away.moved_in_run < newest.run_id, true)
),

moves as (
    -- a new path with the content of a known file that is no longer listed
    select
        listed.file_path,
        min(known.file_path) as moved_from
    from listing as listed
    inner join known
        on
            listed.fingerprint = known.fingerprint
            and listed.size_bytes = known.size_bytes
    where
        listed.file_path not in (select newest.file_path from newest)
        and known.file_path not in (select listing.file_path from listing)
    group by listed.file_path
),

compared as (
    select
        listing.*,
        moves.moved_from,
        case
            when newest.file_path is null and moves.moved_from is not null then 'moved'
            when newest.file_path is null then 'new'
            when
                listing.size_bytes = newest.size_bytes
                and listing.fingerprint = newest.fingerprint
                -- a removed file that came back as it was is recorded again
                then if(newest.status = 'removed', 'restored', 'unchanged')
            when
                listing.size_bytes > newest.size_bytes
                and listing.prefix_bytes = newest.size_bytes
                and listing.prefix_fingerprint = newest.fingerprint
                and newest.last_line_complete
                then 'grown'
            else 'changed'
        end as status,
        newest.line_count as lines_before
    from listing
    left join newest
        on listing.file_path = newest.file_path
    left join moves
        on listing.file_path = moves.file_path
),

checked as (
    -- a changed file stops the run before anything is built from it
    select *
    from compared
    where
        status != 'unchanged'
        and (
            status != 'changed'
            or raise_error(concat(
                'load_ledger: ', file_path, ' changed since it was read (not only appended to):',
                ' restore it, or rebuild every table with make run FULL_REFRESH=1'
            )) is null
        )
),

reads as (
    select
        run_id,
        file_path,
        status,
        size_bytes,
        modified_at,
        fingerprint,
        line_count,
        last_line_complete,
        case when status in ('new', 'grown') then coalesce(lines_before, 0) + 1 end as first_line,
        case when status in ('new', 'grown') then line_count end as last_line,
        case when status in ('new', 'grown') then non_blank_lines end as non_blank_lines,
        moved_from,
        events_path
    from checked
),

removals as (
    select
        (select max(listing.run_id) from listing) as run_id,
        known.file_path,
        'removed' as status,
        known.size_bytes,
        known.modified_at,
        known.fingerprint,
        known.line_count,
        known.last_line_complete,
        cast(null as bigint) as first_line,
        cast(null as bigint) as last_line,
        cast(null as bigint) as non_blank_lines,
        cast(null as string) as moved_from,
        known.events_path
    from known
    where
        known.file_path not in (select listing.file_path from listing)
        and known.file_path not in (select moves.moved_from from moves)
        -- an empty listing (no run command ran) removes nothing
        and exists (select 1 from listing)
),

rows_to_record as (
    select * from reads
    union all
    select * from removals
),

final as (
    select
        *,
        current_timestamp() as recorded_at
    from rows_to_record
)

select * from final
