import { ListVerbRewriter } from '../../../sandbox/vault/list-verb';

const feed = (chunks: string[]) => {
  const r = new ListVerbRewriter();
  return chunks.map((c) => r.feed(Buffer.from(c, 'latin1')).toString('latin1')).join('');
};

describe("the Vault double's LIST shim", () => {
  const list = 'LIST /v1/secret/metadata/api-credentials/ HTTP/1.1\r\nHost: v\r\nX-Vault-Token: t\r\n\r\n';
  const body = '{"data":{"note":"LIST /v1/x HTTP/1.1\\r\\n"}}';
  const post = `POST /v1/secret/data/x HTTP/1.1\r\nHost: v\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

  it('turns a LIST request line into GET ?list=true and leaves the headers alone', () => {
    expect(feed([list])).toBe(
      'GET /v1/secret/metadata/api-credentials/?list=true HTTP/1.1\r\nHost: v\r\nX-Vault-Token: t\r\n\r\n',
    );
    expect(feed(['LIST /v1/secret/metadata/?x=1 HTTP/1.1\r\n\r\n'])).toBe(
      'GET /v1/secret/metadata/?x=1&list=true HTTP/1.1\r\n\r\n',
    );
  });

  it('finds request boundaries by Content-Length on a kept-alive connection, however the bytes arrive', () => {
    const stream = post + list + post;
    const expected =
      post +
      list.replace(
        'LIST /v1/secret/metadata/api-credentials/ ',
        'GET /v1/secret/metadata/api-credentials/?list=true ',
      ) +
      post;
    expect(feed([stream])).toBe(expected);
    expect(feed(stream.split(''))).toBe(expected);
  });

  it('stops rewriting a connection after a chunked body rather than guess where it ends', () => {
    const chunked = 'POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nLIST\r\n0\r\n\r\n';
    expect(feed([chunked + list])).toBe(chunked + list);
  });
});
