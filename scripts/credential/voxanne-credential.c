
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


/*
 * voxanne-credential: seals a tenant's provider secret into the SQL that
 * stores it in org_credentials, opens a stored row again, and tells a key
 * file's id.  The same codec as the gateway (ngx_http_voxanne_crypt.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include "ngx_http_voxanne_crypt.h"


#define VOXANNE_CREDENTIAL_KEY_FILE_MAX  1024
#define VOXANNE_CREDENTIAL_INPUT_MAX                                          \
    (2 * NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX + 256)


typedef struct {
    char                            *command;
    char                            *key_file;
    ngx_http_voxanne_crypt_label_t   label;
    u_char                           org[NGX_HTTP_VOXANNE_CRYPT_ORG_LEN];
    ngx_http_voxanne_crypt_key_t     key;
} voxanne_credential_t;


static int voxanne_credential_options(voxanne_credential_t *vc, int argc,
    char **argv);
static int voxanne_credential_key(voxanne_credential_t *vc);
static int voxanne_credential_seal(voxanne_credential_t *vc);
static int voxanne_credential_open(voxanne_credential_t *vc);
static ssize_t voxanne_credential_read(u_char *buf, size_t size);
static size_t voxanne_credential_trim(u_char *buf, size_t len);
static ngx_int_t voxanne_credential_digit(u_char c);
static size_t voxanne_credential_unhex(u_char *dst, size_t size,
    u_char *hex, size_t len);
static void voxanne_credential_hex(u_char *p, size_t len);


static const char  voxanne_credential_usage[] =
"usage: voxanne-credential seal --key-file FILE --org UUID --provider P"
" --name N\n"
"       voxanne-credential open --key-file FILE --org UUID --provider P"
" --name N\n"
"       voxanne-credential key-id --key-file FILE\n"
"\n"
"seal    reads a secret on stdin (trailing white space removed, up to 4096\n"
"        bytes) and prints the SQL that stores it, sealed, in\n"
"        org_credentials (replacing the row's secret if there is one):\n"
"          voxanne-credential seal ... < token | psql \"$DATABASE\"\n"
"open    reads a stored row on stdin, as this query prints it, and prints\n"
"        the secret:\n"
"          psql -XAt -F ' ' -c \"SELECT key_id, encode(nonce, 'hex'),\n"
"              encode(ciphertext, 'hex'), encode(tag, 'hex')\n"
"            FROM org_credentials\n"
"            WHERE org_id = 'UUID' AND provider = 'P' AND name = 'N'\"\n"
"key-id  prints the key's id, as rows sealed with it store it\n"
"\n"
"The key file holds 32 random bytes, raw or as 64 hex digits\n"
"(openssl rand -hex 32 > FILE).  A provider is [a-z][a-z0-9_-]*, up to\n"
"32 characters; a name [a-z][a-z0-9_.-]*, up to 64.  The org id, provider\n"
"and name are sealed with the secret: a row moved to another one does not\n"
"open.  Exit status: 0, 1 when it fails, 2 on a usage error.\n";


int
main(int argc, char **argv)
{
    int                   rc;
    voxanne_credential_t  vc;

    ngx_memzero(&vc, sizeof(voxanne_credential_t));

    rc = voxanne_credential_options(&vc, argc, argv);
    if (rc != 0) {
        return rc;
    }

    if (voxanne_credential_key(&vc) != 0) {
        return 1;
    }

    if (strcmp(vc.command, "seal") == 0) {
        rc = voxanne_credential_seal(&vc);

    } else if (strcmp(vc.command, "open") == 0) {
        rc = voxanne_credential_open(&vc);

    } else {
        printf("%.*s\n", NGX_HTTP_VOXANNE_CRYPT_KEY_ID_LEN, vc.key.id);
        rc = 0;
    }

    ngx_http_voxanne_crypt_key_wipe(&vc.key);

    return rc;
}


static int
voxanne_credential_options(voxanne_credential_t *vc, int argc, char **argv)
{
    int         c;
    size_t      i;
    ngx_str_t  *field;

    static const struct option  options[] = {
        { "key-file", required_argument, NULL, 'k' },
        { "org", required_argument, NULL, 'o' },
        { "provider", required_argument, NULL, 'p' },
        { "name", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {

        switch (c) {

        case 'k':
            vc->key_file = optarg;
            continue;

        case 'o':
            field = &vc->label.org;
            break;

        case 'p':
            field = &vc->label.provider;
            break;

        case 'n':
            field = &vc->label.name;
            break;

        case 'h':
            fputs(voxanne_credential_usage, stdout);
            exit(0);

        default:
            fputs(voxanne_credential_usage, stderr);
            return 2;
        }

        field->data = (u_char *) optarg;
        field->len = strlen(optarg);
    }

    if (optind != argc - 1 || vc->key_file == NULL) {
        fputs(voxanne_credential_usage, stderr);
        return 2;
    }

    vc->command = argv[optind];

    if (strcmp(vc->command, "key-id") == 0) {
        return 0;
    }

    if (strcmp(vc->command, "seal") != 0 && strcmp(vc->command, "open") != 0)
    {
        fprintf(stderr, "voxanne-credential: unknown command \"%s\"\n\n%s",
                vc->command, voxanne_credential_usage);
        return 2;
    }

    if (vc->label.org.data == NULL || vc->label.provider.data == NULL
        || vc->label.name.data == NULL)
    {
        fprintf(stderr, "voxanne-credential: %s needs --org, --provider and "
                "--name\n", vc->command);
        return 2;
    }

    /* uuids are sealed as PostgreSQL prints them: lowercase */

    if (vc->label.org.len == NGX_HTTP_VOXANNE_CRYPT_ORG_LEN) {
        for (i = 0; i < NGX_HTTP_VOXANNE_CRYPT_ORG_LEN; i++) {
            vc->org[i] = ngx_tolower(vc->label.org.data[i]);
        }

        vc->label.org.data = vc->org;
    }

    return 0;
}


static int
voxanne_credential_key(voxanne_credential_t *vc)
{
    int          fd;
    size_t       len;
    ssize_t      n;
    ngx_int_t    rc;
    struct stat  st;
    u_char       text[VOXANNE_CREDENTIAL_KEY_FILE_MAX + 1];

    fd = open(vc->key_file, O_RDONLY);
    if (fd == -1) {
        fprintf(stderr, "voxanne-credential: %s: %s\n", vc->key_file,
                strerror(errno));
        return 1;
    }

    if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        fprintf(stderr, "voxanne-credential: warning: %s is open to others "
                "than its owner (chmod 600 it)\n", vc->key_file);
    }

    len = 0;

    do {
        n = read(fd, text + len, sizeof(text) - len);
        len += n > 0 ? n : 0;
    } while (n > 0 && len < sizeof(text));

    if (n == -1) {
        fprintf(stderr, "voxanne-credential: %s: %s\n", vc->key_file,
                strerror(errno));
    }

    close(fd);

    if (n == -1) {
        OPENSSL_cleanse(text, sizeof(text));
        return 1;
    }

    rc = NGX_DECLINED;

    if (len <= VOXANNE_CREDENTIAL_KEY_FILE_MAX) {
        rc = ngx_http_voxanne_crypt_key_parse(&vc->key, text, len);
    }

    OPENSSL_cleanse(text, sizeof(text));

    if (rc != NGX_OK) {
        fprintf(stderr, "voxanne-credential: %s: %s\n", vc->key_file,
                rc == NGX_ERROR ? "libcrypto failed"
                : "not a key (32 random bytes, raw or as 64 hex digits)");
        return 1;
    }

    return 0;
}


static int
voxanne_credential_seal(voxanne_credential_t *vc)
{
    size_t     len;
    ssize_t    n;
    ngx_int_t  rc;
    u_char     nonce[NGX_HTTP_VOXANNE_CRYPT_NONCE_LEN];
    u_char     tag[NGX_HTTP_VOXANNE_CRYPT_TAG_LEN];
    u_char     secret[VOXANNE_CREDENTIAL_INPUT_MAX];
    u_char     sealed[NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX];

    n = voxanne_credential_read(secret, sizeof(secret));
    len = n > 0 ? voxanne_credential_trim(secret, n) : 0;

    if (len == 0 || len > NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX) {
        OPENSSL_cleanse(secret, sizeof(secret));
        fprintf(stderr, "voxanne-credential: the secret on stdin must be 1 "
                "to %d bytes\n", NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX);
        return 1;
    }

    rc = ngx_http_voxanne_crypt_nonce(nonce);

    if (rc == NGX_OK) {
        rc = ngx_http_voxanne_crypt_seal(&vc->key, &vc->label, nonce, secret,
                                         len, sealed, tag);
    }

    OPENSSL_cleanse(secret, sizeof(secret));

    if (rc != NGX_OK) {
        fprintf(stderr, "voxanne-credential: %s\n",
                rc == NGX_ERROR ? "libcrypto failed"
                : "invalid --org (a uuid), --provider or --name");
        return 1;
    }

    /* every field is checked: uuid, [a-z0-9_.-], hex */

    printf("BEGIN;\n"
           "SET LOCAL app.org_id = '%.*s';\n"
           "INSERT INTO org_credentials"
           " (org_id, provider, name, key_id, nonce, ciphertext, tag)\n"
           "VALUES ('%.*s', '%.*s', '%.*s', '%.*s',\n        decode('",
           (int) vc->label.org.len, vc->label.org.data,
           (int) vc->label.org.len, vc->label.org.data,
           (int) vc->label.provider.len, vc->label.provider.data,
           (int) vc->label.name.len, vc->label.name.data,
           NGX_HTTP_VOXANNE_CRYPT_KEY_ID_LEN, vc->key.id);
    voxanne_credential_hex(nonce, sizeof(nonce));
    printf("', 'hex'),\n        decode('");
    voxanne_credential_hex(sealed, len);
    printf("', 'hex'),\n        decode('");
    voxanne_credential_hex(tag, sizeof(tag));
    printf("', 'hex'))\n"
           "ON CONFLICT (org_id, provider, name) DO UPDATE\n"
           "SET key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce,\n"
           "    ciphertext = EXCLUDED.ciphertext, tag = EXCLUDED.tag;\n"
           "COMMIT;\n");

    return 0;
}


static int
voxanne_credential_open(voxanne_credential_t *vc)
{
    size_t      n, i, nfields, lens[4];
    u_char     *p, *last, *fields[4];
    ssize_t     len;
    ngx_int_t   rc;
    u_char      nonce[NGX_HTTP_VOXANNE_CRYPT_NONCE_LEN];
    u_char      tag[NGX_HTTP_VOXANNE_CRYPT_TAG_LEN];
    u_char      row[VOXANNE_CREDENTIAL_INPUT_MAX];
    u_char      sealed[NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX];
    u_char      secret[NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX];

    /* key_id nonce ciphertext tag, apart by white space or '|' */

    len = voxanne_credential_read(row, sizeof(row));
    if (len == -1) {
        fprintf(stderr, "voxanne-credential: stdin is too long for a row\n");
        return 1;
    }

    p = row;
    last = row + len;
    nfields = 0;

    while (p < last) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '|')
        {
            p++;
            continue;
        }

        if (nfields == 4) {
            nfields++;
            break;
        }

        fields[nfields] = p;

        while (p < last && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'
               && *p != '|')
        {
            p++;
        }

        lens[nfields] = p - fields[nfields];
        nfields++;
    }

    if (nfields != 4) {
        fprintf(stderr, "voxanne-credential: want one row on stdin: key_id, "
                "nonce, ciphertext and tag (see --help)\n");
        return 1;
    }

    if (lens[0] != NGX_HTTP_VOXANNE_CRYPT_KEY_ID_LEN
        || ngx_memcmp(fields[0], vc->key.id, lens[0]) != 0)
    {
        fprintf(stderr, "voxanne-credential: the row was sealed with key "
                "\"%.*s\", this is key \"%.*s\"\n", (int) lens[0], fields[0],
                NGX_HTTP_VOXANNE_CRYPT_KEY_ID_LEN, vc->key.id);
        return 1;
    }

    n = voxanne_credential_unhex(sealed, sizeof(sealed), fields[2], lens[2]);

    if (voxanne_credential_unhex(nonce, sizeof(nonce), fields[1], lens[1])
        != sizeof(nonce)
        || voxanne_credential_unhex(tag, sizeof(tag), fields[3], lens[3])
           != sizeof(tag)
        || n == 0)
    {
        fprintf(stderr, "voxanne-credential: the nonce, ciphertext or tag is "
                "not hex of the right length\n");
        return 1;
    }

    rc = ngx_http_voxanne_crypt_open(&vc->key, &vc->label, nonce, sealed, n,
                                     tag, secret);

    if (rc != NGX_OK) {
        fprintf(stderr, "voxanne-credential: %s\n",
                rc == NGX_ERROR ? "libcrypto failed"
                : "cannot open: invalid --org, --provider or --name, or the "
                  "row was altered or belongs to another org, provider or "
                  "name");
        return 1;
    }

    for (i = 0; i < n; i++) {
        putchar(secret[i]);
    }

    putchar('\n');

    OPENSSL_cleanse(secret, sizeof(secret));

    return fflush(stdout) == 0 ? 0 : 1;
}


/* all of stdin, or -1 when it holds more than size bytes */

static ssize_t
voxanne_credential_read(u_char *buf, size_t size)
{
    size_t  len;
    u_char  extra;

    len = fread(buf, 1, size, stdin);

    if (len == size && fread(&extra, 1, 1, stdin) == 1) {
        return -1;
    }

    return len;
}


static size_t
voxanne_credential_trim(u_char *buf, size_t len)
{
    while (len > 0
           && (buf[len - 1] == ' ' || buf[len - 1] == '\t'
               || buf[len - 1] == '\r' || buf[len - 1] == '\n'))
    {
        len--;
    }

    return len;
}


/* the bytes decoded, or 0 for odd or non-hex text or more than size */

static size_t
voxanne_credential_unhex(u_char *dst, size_t size, u_char *hex, size_t len)
{
    size_t     i;
    ngx_int_t  hi, lo;

    if (len % 2 || len / 2 > size) {
        return 0;
    }

    for (i = 0; i < len / 2; i++) {
        hi = voxanne_credential_digit(hex[2 * i]);
        lo = voxanne_credential_digit(hex[2 * i + 1]);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return 0;
        }

        dst[i] = (u_char) (hi << 4 | lo);
    }

    return len / 2;
}


static ngx_int_t
voxanne_credential_digit(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = (u_char) (c | 0x20);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return NGX_ERROR;
}


static void
voxanne_credential_hex(u_char *p, size_t len)
{
    while (len--) {
        printf("%02x", *p++);
    }
}
