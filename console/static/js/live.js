// Live updates over the graphql-transport-ws protocol on /graphql (实时推送): one socket per
// page that asks, the token sent in connection_init's payload (browsers set no headers on a
// WebSocket). The listener returns false once its page is gone, which closes the socket.

import { session } from './session.js';

const SUBSCRIPTION_RECORD_CHANGES = `
subscription RecordChanges { recordChanges { recordId kind source regionCode change committedAt } }`;

export function watchRecords(listener) {
  const token = session.token();
  if (!token || !('WebSocket' in window)) return () => {};
  const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`;
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const close = () => { if (socket.readyState <= 1) socket.close(1000); };
  socket.addEventListener('open', () => {
    socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
  });
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'connection_ack') {
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION_RECORD_CHANGES } }));
    } else if (message.type === 'ping') {
      socket.send(JSON.stringify({ type: 'pong' }));
    } else if (message.type === 'next' && message.payload?.data) {
      if (listener(message.payload.data.recordChanges) === false) close();
    }
  });
  window.addEventListener('hashchange', close, { once: true });
  return close;
}
